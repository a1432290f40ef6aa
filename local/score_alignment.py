#!/usr/bin/env python3
"""Frame-level phone accuracy of an alignment against a true alignment (the demo corpus's phone_ali.txt).

Phones are compared by name, so the two phone tables may number them differently. Every frame of the true
alignment counts: frames of utterances the aligner left out, and frames past the end of a shorter alignment,
count as errors. Writes a small report whose last line is the accuracy (0-1)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.lang import read_symbol_table
from phonsid.hmm.tools import run_tool
from phonsid.io.atomic import atomic_write_text

USAGE = """Scores the per-frame phones of an alignment dir (phone_ali.scp and phones.txt, as written by
steps/align.sh) against a true alignment ("utt phone-id phone-id ..." per 10 ms frame) and its phone table.
The report goes to <out-file> (default <ali-dir>/phone_accuracy.txt); its last line is the accuracy.

Usage: local/score_alignment.py [options] <true-phone-ali> <true-phones.txt> <ali-dir> [<out-file>]
 e.g.: local/score_alignment.py data/demo_asr/phone_ali.txt data/demo_asr/phones.txt exp/tri1_ali"""


def read_true_alignment(path: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            try:
                out[fields[0]] = np.asarray([int(x) for x in fields[1:]], dtype=np.int64)
            except ValueError:
                raise ValueError(f"{path}:{lineno}: expected 'utt phone-id ...'") from None
    return out


def score(truth: dict[str, np.ndarray], true_syms, hyp: dict[str, np.ndarray], hyp_syms) -> dict:
    """Counts for the report: total/right frames, per true phone, missing and length-mismatched utterances."""
    names = sorted(true_syms.sym2id, key=lambda s: true_syms[s])
    # map hypothesis ids to true ids by name (-1: no such phone in the true table)
    max_hyp = max(hyp_syms.id2sym) + 1
    hyp2true = np.full(max_hyp, -1, dtype=np.int64)
    for i, s in hyp_syms.id2sym.items():
        if s in true_syms:
            hyp2true[i] = true_syms[s]
    total = right = 0
    per_phone: dict[str, list[int]] = {n: [0, 0] for n in names}
    missing, mismatched = [], []
    for utt, ref in truth.items():
        total += len(ref)
        for p in ref:
            per_phone[true_syms.symbol(int(p))][1] += 1
        h = hyp.get(utt)
        if h is None:
            missing.append(utt)
            continue
        if len(h) != len(ref):
            mismatched.append((utt, len(ref), len(h)))
        n = min(len(h), len(ref))
        mapped = hyp2true[np.clip(h[:n], 0, max_hyp - 1)]
        ok = mapped == ref[:n]
        right += int(ok.sum())
        for p, c in zip(*np.unique(ref[:n][ok], return_counts=True)):
            per_phone[true_syms.symbol(int(p))][0] += int(c)
    return dict(total=total, right=right, per_phone=per_phone, missing=missing, mismatched=mismatched,
                extra=sorted(set(hyp) - set(truth)))


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("score_alignment.py", USAGE)
    p.add_argument("true_ali")
    p.add_argument("true_phones")
    p.add_argument("ali_dir")
    p.add_argument("out", nargs="?", default=None)
    a = p.parse_args(argv)
    log = get_logger("score_alignment.py")

    def body() -> int:
        from phonsid.io import read_table

        ali_dir = Path(a.ali_dir)
        for f in ("phone_ali.scp", "phones.txt"):
            if not (ali_dir / f).exists():
                log.error(f"{ali_dir / f} is missing (run steps/align.sh first)")
                return 1
        truth = read_true_alignment(a.true_ali)
        true_syms = read_symbol_table(a.true_phones)
        hyp_syms = read_symbol_table(ali_dir / "phones.txt")
        hyp = {u: np.asarray(v, np.int64) for u, v in read_table(f"scp:{ali_dir / 'phone_ali.scp'}", "int_vector").items()}
        r = score(truth, true_syms, hyp, hyp_syms)
        if r["total"] == 0:
            log.error(f"{a.true_ali} has no frames")
            return 1
        acc = r["right"] / r["total"]
        lines = [f"# frame-level phone accuracy of {ali_dir}/phone_ali.scp against {a.true_ali}",
                 f"# utterances {len(truth)}, not aligned {len(r['missing'])}, length mismatches "
                 f"{len(r['mismatched'])}, aligned but not in the reference {len(r['extra'])}",
                 "# per phone: phone right/frames accuracy"]
        for name, (ok, n) in r["per_phone"].items():
            if n:
                lines.append(f"#   {name:<6} {ok}/{n} {ok / n:.4f}")
        lines.append(f"# frames {r['total']}, right {r['right']}")
        lines.append(f"{acc:.4f}")
        out = a.out or str(ali_dir / "phone_accuracy.txt")
        atomic_write_text(out, "\n".join(lines) + "\n")
        for utt, nr, nh in r["mismatched"][:5]:
            log.warning(f"utterance '{utt}': {nr} reference frames, {nh} aligned frames")
        if r["missing"]:
            log.warning(f"{len(r['missing'])} utterances not aligned (counted as errors), e.g. {r['missing'][0]}")
        log.info(f"frame-level phone accuracy {acc:.4f} over {r['total']} frames; written to {out}")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
