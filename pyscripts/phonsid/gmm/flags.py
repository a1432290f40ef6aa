"""GMM update flags (Kaldi's ``GmmFlagsType``): which statistics accumulators keep and which parameters an
update changes. They are written in accumulator files with :meth:`phonsid.io.kaldi_object.KaldiWriter.write_uint16`.
"""

from __future__ import annotations

#: GMM update flags (Kaldi's GmmUpdateFlags): m = means, v = variances, w = weights, t = transitions.
GMM_MEANS, GMM_VARIANCES, GMM_WEIGHTS, GMM_TRANSITIONS = 1, 2, 4, 8
GMM_ALL = 15


def string_to_gmm_flags(text: str) -> int:
    """``"mvw"`` → 7, as Kaldi's ``StringToGmmFlags`` (letters m, v, w, t, a)."""
    flags = 0
    for c in text:
        if c == "m":
            flags |= GMM_MEANS
        elif c == "v":
            flags |= GMM_VARIANCES
        elif c == "w":
            flags |= GMM_WEIGHTS
        elif c == "t":
            flags |= GMM_TRANSITIONS
        elif c == "a":
            flags |= GMM_ALL
        else:
            raise ValueError(f"invalid GMM update flag '{c}' in '{text}' (use a subset of m, v, w, t, a)")
    return flags


def augment_flags(flags: int) -> int:
    """Kaldi's AugmentGmmFlags: variances imply means, means imply weights (occupancies are always kept)."""
    if flags & ~GMM_ALL:
        raise ValueError(f"invalid GMM flags {flags}")
    if flags & GMM_VARIANCES:
        flags |= GMM_MEANS
    if flags & GMM_MEANS:
        flags |= GMM_WEIGHTS
    if not flags & GMM_WEIGHTS:
        raise ValueError("GMM accumulators need at least the weight (occupancy) statistics")
    return flags
