#!/usr/bin/env python3
"""Kaldi's copy-feats: copy feature tables or single matrices, optionally compressing them."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.features.frontend_cli import is_table_specifier

USAGE = """Copy features [and possibly change format]
Usage: copy_feats.py [options] <feature-rspecifier> <feature-wspecifier>
or:   copy_feats.py [options] <feats-rxfilename> <feats-wxfilename>
e.g.: copy_feats.py ark:- ark,scp:foo.ark,foo.scp
 or: copy_feats.py ark:foo.ark ark,t:txt.ark
See also: copy-matrix, copy-feats-to-htk, copy-feats-to-sphinx, select-feats,
extract-feature-segments, subset-feats, subsample-feats, splice-feats, paste-feats,
concat-feats"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("copy_feats.py", USAGE)
    parser.add_bool("--binary", True, "binary-mode output (not relevant if writing to archive)")
    parser.add_bool("--htk-in", False, "read input as HTK features (not supported)")
    parser.add_bool("--sphinx-in", False, "read input as Sphinx features (not supported)")
    parser.add_bool("--compress", False, "if true, write output in compressed form (only currently supported "
                                         "for wxfilename, i.e. archive/script, output)")
    parser.add_argument("--compression-method", type=int, default=1,
                        help="compression method: 1 = automatic (the only one supported here) (default: 1)")
    parser.add_argument("--write-num-frames", default="",
                        help="wspecifier to write length in frames of each utterance, e.g. 'ark,t:utt2num_frames'")
    parser.add_argument("rspecifier")
    parser.add_argument("wspecifier")
    args = parser.parse_args(argv)
    logger = get_logger("copy_feats.py")

    from phonsid.io import KaldiIOError, SequentialReader, SpecifierError, TableWriter
    from phonsid.io.kaldi_object import KaldiWriter, read_kaldi_matrix
    from phonsid.io.xfilename import open_wxfilename

    if args.htk_in or args.sphinx_in:
        logger.error("--htk-in and --sphinx-in are not supported")
        return 1
    if args.compression_method != 1:
        logger.error(f"--compression-method={args.compression_method}: only 1 (automatic) is supported")
        return 1
    in_table = is_table_specifier(args.rspecifier, write=False)
    out_table = is_table_specifier(args.wspecifier, write=True)
    if in_table != out_table:
        logger.error("the input and output must both be tables (rspecifier, wspecifier) or both be files")
        return 1
    num_done = 0
    try:
        if in_table:
            with SequentialReader(args.rspecifier) as reader, \
                    TableWriter(args.wspecifier, compress=args.compress) as writer:
                len_writer = TableWriter(args.write_num_frames, "int") if args.write_num_frames else None
                try:
                    for utt, feats in reader:
                        writer.write(utt, feats)
                        if len_writer is not None:
                            len_writer.write(utt, int(feats.shape[0]))
                        num_done += 1
                except BaseException as e:
                    if len_writer is not None:
                        len_writer.abort(e)
                    raise
                if len_writer is not None:
                    len_writer.close()
            logger.info(f"Copied {num_done} feature matrices.")
            return 0 if num_done else 1
        if args.write_num_frames:
            logger.error("--write-num-frames needs table (rspecifier/wspecifier) arguments")
            return 1
        mat = read_kaldi_matrix(args.rspecifier)
        with open_wxfilename(args.wspecifier) as f:
            w = KaldiWriter(f, binary=args.binary, name=args.wspecifier)
            if args.compress:
                w.write_compressed_matrix(mat, name="matrix")
            else:
                w.write_matrix(mat, double=mat.dtype.itemsize == 8, name="matrix")
        logger.info(f"Copied features from {args.rspecifier} to {args.wspecifier}")
        return 0
    except (KaldiIOError, SpecifierError, OSError, ValueError) as e:
        logger.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
