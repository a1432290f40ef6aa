#!/usr/bin/env python3
"""Exports a trained x-vector extractor to TorchScript and checks it gives the PyTorch model's embeddings."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import torch

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.nnet.xvector_extract import export_xvector_torchscript, load_extractor

USAGE = """Writes a TorchScript file of the x-vector extractor: the network up to the embedding layer's affine
output plus Kaldi's chunking, edge padding and length-weighted averaging. Load it anywhere with torch.jit.load
(no phonsid needed) and call it on a (frames, dim) float32 tensor of features that already went through the
recipe's transform (sliding CMN, voiced frames only); it returns the x-vector. The export is checked against the
PyTorch model on random inputs of several lengths.

Usage: export-xvector [options] <nnet-in> <torchscript-out>
 <nnet-in> is a final.pt or the experiment dir holding it.
e.g.: export-xvector --chunk-size=10000 exp/xvector exp/xvector/final.ts"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("export-xvector", USAGE)
    p.add_argument("--chunk-size", type=int, default=0, help="Frames per chunk (default: the model's max_chunk_size)")
    p.add_argument("--min-chunk-size", type=int, default=0, help="Shortest chunk (default: the model's "
                   "min_chunk_size)")
    p.add_argument("--tolerance", type=float, default=1e-4, help="Largest allowed difference in the check")
    p.add_argument("nnet_in")
    p.add_argument("out")
    args = p.parse_args(argv)
    log = get_logger("export-xvector")
    try:
        extractor = load_extractor(args.nnet_in, chunk_size=args.chunk_size or None,
                                   min_chunk_size=args.min_chunk_size or None)
        scripted = export_xvector_torchscript(extractor, args.out)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated but still supported
            loaded = torch.jit.load(args.out)
        rng = np.random.default_rng(0)
        chunk = extractor.embedder.chunk_size
        lengths = sorted({3, extractor.embedder.min_chunk_size + 7, 250,
                          (chunk + chunk // 3) if chunk > 0 else 1200})
        worst = 0.0
        for n in lengths:
            x = rng.standard_normal((n, extractor.feat_dim)).astype(np.float32)
            ref = extractor.embed_prepared(x)
            with torch.no_grad():
                got = loaded(torch.from_numpy(x)).numpy()
            worst = max(worst, float(np.abs(got - ref).max() / max(1.0, np.abs(ref).max())))
        del scripted
        if worst > args.tolerance:
            raise RuntimeError(f"the TorchScript export differs from the PyTorch model by {worst:g} "
                               f"(> --tolerance {args.tolerance:g})")
    except (OSError, ValueError, RuntimeError) as e:
        log.error(str(e))
        return 1
    log.info(f"wrote {args.out}; largest relative difference to the PyTorch model on {len(lengths)} inputs of "
             f"{lengths} frames: {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
