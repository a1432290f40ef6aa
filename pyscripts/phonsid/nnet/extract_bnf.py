"""Running a trained bottleneck DNN over utterances: bottleneck features (Kaldi's
``nnet3-compute --extract-output=bottleneck``), senone log-posteriors or posteriors.

Each utterance is normalised as at training (the ``input:`` settings saved with the model), spliced with its edges
replicated, and passed through the network in batches of up to ``batch_frames`` frames (utterances are grouped into
batches, long ones split); batch norm is in test mode, so every frame's output depends only on its own context and
the result does not depend on the batching. The output has exactly one row per input frame.

With a VAD table, only the voiced frames are output (Kaldi's ``select-voiced-frames`` after the network): each is
computed from the same normalised, spliced context as without VAD, so its row is the row it would have had, and
the network runs on the voiced frames only.

Speaker normalisation (``speaker-mvn`` models, DNN-2): the statistics of a speaker are those of all frames of all
its utterances in the table being processed, grouped by ``utt2spk`` (the data dir's); with ``per_utt`` each
utterance is its own speaker. The features are read twice (statistics, then output), so the rspecifier must be
re-readable (an scp or ark file); speakers are processed one after another, in the order of their first utterance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from phonsid.features.splice import splice_utterance
from phonsid.nnet.bnf import BnfModelInfo, BottleneckDNN, load_bnf_model
from phonsid.nnet.bnf_data import SpeakerStats, normalize_features

OUTPUTS = ("bottleneck", "log-posteriors", "posteriors")


class ExtractionError(ValueError):
    """Input that the model cannot process (message names the utterance and the problem)."""


@dataclass
class ExtractStats:
    num_done: int = 0
    num_failed: int = 0
    frames: int = 0
    seconds: float = 0.0
    failed: list[str] = field(default_factory=list)

    @property
    def real_time_factor(self) -> float:
        """Audio seconds (10 ms frames) processed per second of computation."""
        return self.frames * 0.01 / self.seconds if self.seconds > 0 else float("inf")


class BnfExtractor:
    """A trained model ready to run: ``compute(feats, stats)`` for one utterance, ``compute_many`` for a batch."""

    def __init__(self, model_path: str | Path, device: str | torch.device = "cpu", batch_frames: int = 20000,
                 output: str = "bottleneck") -> None:
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got '{output}'")
        self.device = torch.device(device)
        model, info = load_bnf_model(model_path, map_location="cpu")
        self.model: BottleneckDNN = model.to(self.device).eval()
        self.info: BnfModelInfo = info
        self.output = output
        self.batch_frames = max(int(batch_frames), 1)

    @property
    def feat_dim(self) -> int:
        return self.info.feat_dim

    @property
    def output_dim(self) -> int:
        return self.info.model.bottleneck_dim if self.output == "bottleneck" else self.info.num_pdfs

    @property
    def needs_speakers(self) -> bool:
        return self.info.input.needs_speakers

    def _check(self, utt: str, feats: np.ndarray) -> None:
        if feats.ndim != 2 or feats.shape[1] != self.feat_dim:
            raise ExtractionError(f"utterance '{utt}': features of shape {tuple(feats.shape)}, the model takes "
                                  f"{self.feat_dim}-dim frames")
        if feats.shape[0] == 0:
            raise ExtractionError(f"utterance '{utt}': no frames")
        if not np.all(np.isfinite(feats)):
            raise ExtractionError(f"utterance '{utt}': non-finite feature values")

    @torch.no_grad()
    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.output == "bottleneck":
            return self.model.bottleneck(x)
        logp = self.model.log_posteriors(x)
        return logp.exp() if self.output == "posteriors" else logp

    def compute_many(self, items: list[tuple[str, np.ndarray, tuple[np.ndarray, np.ndarray] | None]],
                     voiced: list[np.ndarray | None] | None = None) -> list[np.ndarray]:
        """Outputs for ``(utt, feats, speaker stats)`` items, computed in as few network calls as the batch size
        allows; ``voiced`` (one boolean frame mask or None per item) keeps only those frames' rows."""
        spliced = []
        for i, (utt, feats, stats) in enumerate(items):
            self._check(utt, feats)
            if self.needs_speakers and stats is None:
                raise ExtractionError(f"utterance '{utt}': the model normalises per speaker; give utt2spk (or per-utt)")
            x = torch.from_numpy(normalize_features(feats, self.info.input, stats)).to(self.device)
            x = splice_utterance(x, self.info.input.splice)
            if voiced is not None and voiced[i] is not None:
                x = x[torch.from_numpy(voiced[i]).to(self.device)]
            spliced.append(x)
        outs = []
        if not spliced:
            return outs
        big = torch.cat(spliced)
        pieces = [self._forward(big[s:s + self.batch_frames]) for s in range(0, big.shape[0], self.batch_frames)]
        y = torch.cat(pieces).float().cpu().numpy()
        pos = 0
        for sp in spliced:
            outs.append(y[pos:pos + sp.shape[0]])
            pos += sp.shape[0]
        return outs

    def compute(self, feats: np.ndarray, stats: tuple[np.ndarray, np.ndarray] | None = None,
                utt: str = "<utterance>") -> np.ndarray:
        """The output ``(T, dim)`` of one utterance."""
        return self.compute_many([(utt, np.asarray(feats, dtype=np.float32), stats)])[0]


def _speaker_groups(keys: list[str], utt2spk: dict[str, str] | None, per_utt: bool) -> list[tuple[str, list[str]]]:
    if per_utt or utt2spk is None:
        return [(u, [u]) for u in keys]
    groups: dict[str, list[str]] = {}
    for u in keys:
        groups.setdefault(utt2spk[u], []).append(u)
    return list(groups.items())


def extract_table(model_path: str | Path, feats_rspecifier: str, wspecifier: str, *, output: str = "bottleneck",
                  utt2spk: dict[str, str] | None = None, per_utt: bool = False, compress: bool = False,
                  device: str | torch.device = "cpu", batch_frames: int = 20000,
                  num_frames_wspecifier: str = "", vad_rspecifier: str = "", log: Callable[[str], None] = print,
                  warn: Callable[[str], None] | None = None) -> ExtractStats:
    """Writes the model's ``output`` for every utterance of ``feats_rspecifier`` to ``wspecifier`` (with
    ``vad_rspecifier``, for its voiced frames only). Utterances that cannot be processed (wrong dim, empty,
    non-finite input or output, no speaker, no VAD or no voiced frame) are skipped with a warning and counted.
    Log-posteriors may hold -inf (a zero posterior) unless compressed; NaN and +inf never."""
    from phonsid.io import NonFiniteError, RandomReader, SequentialReader, TableWriter

    warn = warn or log
    ex = BnfExtractor(model_path, device, batch_frames, output)
    vad = RandomReader(vad_rspecifier, "vector") if vad_rspecifier else None
    st = ExtractStats()
    if ex.needs_speakers and utt2spk is None and not per_utt:
        raise ExtractionError(f"{model_path}: the model normalises its input per speaker; give utt2spk "
                              f"(--utt2spk) or choose per-utterance statistics (--per-utt)")
    t0 = time.perf_counter()

    def fail(utt: str, why: str) -> None:
        st.num_failed += 1
        st.failed.append(utt)
        warn(f"utterance '{utt}': {why}; skipped")

    writer_nf = TableWriter(num_frames_wspecifier, "int") if num_frames_wspecifier else None
    try:
        with TableWriter(wspecifier, "matrix", compress=compress, allow_neg_inf=output == "log-posteriors") as writer:
            def flush(batch: list) -> None:
                if not batch:
                    return
                outs = ex.compute_many([b[:3] for b in batch], [b[3] for b in batch] if vad is not None else None)
                for (utt, *_), y in zip(batch, outs):
                    try:
                        writer.write(utt, y)
                    except NonFiniteError as e:  # refused before anything of it was written
                        fail(utt, f"non-finite output: {e}")
                        continue
                    if writer_nf is not None:
                        writer_nf.write(utt, int(y.shape[0]))
                    st.num_done += 1
                    st.frames += int(y.shape[0])
                batch.clear()

            def usable(utt: str, feats: np.ndarray) -> bool:
                try:
                    ex._check(utt, feats)
                except ExtractionError as e:
                    fail(utt, str(e).split(": ", 1)[-1])
                    return False
                return True

            def voiced_frames(utt: str, feats: np.ndarray) -> tuple[bool, np.ndarray | None]:
                """(usable, mask of the voiced frames): (True, None) without VAD; (False, None) after a counted
                failure (no VAD, another length, nothing voiced)."""
                if vad is None:
                    return True, None
                if utt not in vad:
                    fail(utt, "no VAD")
                    return False, None
                mask = np.asarray(vad[utt]) != 0.0
                if mask.shape[0] != feats.shape[0]:
                    fail(utt, f"VAD has {mask.shape[0]} frames, the features {feats.shape[0]}")
                    return False, None
                if not mask.any():
                    fail(utt, "no voiced frames")
                    return False, None
                return True, mask

            batch: list = []
            size = 0
            if not ex.needs_speakers:
                with SequentialReader(feats_rspecifier) as reader:
                    for utt, feats in reader:
                        if not usable(utt, feats):
                            continue
                        ok, mask = voiced_frames(utt, feats)
                        if not ok:
                            continue
                        batch.append((utt, feats, None, mask))
                        size += feats.shape[0]
                        if size >= ex.batch_frames:
                            flush(batch)
                            size = 0
                flush(batch)
            else:
                reader = RandomReader(feats_rspecifier)
                keys = list(reader.keys())
                if utt2spk is not None and not per_utt:
                    missing = [u for u in keys if u not in utt2spk]
                    for u in missing:
                        fail(u, "not in utt2spk")
                    keys = [u for u in keys if u in utt2spk]
                for spk, utts in _speaker_groups(keys, utt2spk, per_utt):
                    stats = SpeakerStats()
                    good = []
                    for u in utts:
                        feats = reader[u]
                        if usable(u, feats):
                            stats.accumulate(spk, feats)
                            good.append(u)
                    if not good:
                        continue
                    ms = stats.mean_std(spk, ex.info.input.variance_floor)
                    for u in good:
                        feats = reader[u]
                        ok, mask = voiced_frames(u, feats)
                        if not ok:
                            continue
                        batch.append((u, feats, ms, mask))
                        size += feats.shape[0]
                        if size >= ex.batch_frames:
                            flush(batch)
                            size = 0
                flush(batch)
    except BaseException as e:
        if writer_nf is not None:
            writer_nf.abort(e)
        raise
    finally:
        if vad is not None:
            vad.close()
    if writer_nf is not None:
        writer_nf.close()
    st.seconds = time.perf_counter() - t0
    log(f"computed {output} for {st.num_done} utterances ({st.frames} frames, {st.real_time_factor:.0f}x real time), "
        f"{st.num_failed} failed")
    return st


def iter_outputs(model_path: str | Path, items: Iterator[tuple[str, np.ndarray]], output: str = "bottleneck",
                 device: str | torch.device = "cpu") -> Iterator[tuple[str, np.ndarray]]:
    """Outputs of a model that needs no speaker statistics, one utterance at a time (for library use)."""
    ex = BnfExtractor(model_path, device, output=output)
    for utt, feats in items:
        yield utt, ex.compute(feats, None, utt)


__all__ = ["BnfExtractor", "ExtractStats", "ExtractionError", "OUTPUTS", "extract_table", "iter_outputs"]
