#!/usr/bin/env python3
"""scale-post: scale posteriors by a global scale or a per-utterance scale table."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.options import single_threaded
from phonsid.gmm.posterior import Posterior
from phonsid.io import KaldiIOError, RandomReader, SequentialReader, TableWriter

USAGE = """Scale posteriors with either a global scale, or a different scale for  each utterance.
Usage: scale-post <post-rspecifier> (<scale-rspecifier>|<scale>) <post-wspecifier>"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("scale-post", USAGE)
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 3:
        p.print_help(sys.stderr)
        return 1
    post_rspecifier, scale_arg, post_wspecifier = a.args
    log = get_logger("scale-post")
    single_threaded()
    try:
        scale_reader = None
        global_scale = 0.0
        head, sep, _ = scale_arg.partition(":")
        if sep and any(o.strip() in ("ark", "scp") for o in head.split(",")):
            scale_reader = RandomReader(scale_arg, "float")
        else:
            try:
                global_scale = float(scale_arg)
            except ValueError:
                raise ValueError(f"Bad second argument {scale_arg} (expected scale or scale rspecifier)") from None
        num_scaled = num_no_scale = 0
        with SequentialReader(post_rspecifier, "posterior") as reader, TableWriter(post_wspecifier, "posterior") as w:
            for key, post in reader:
                if scale_reader is not None and key not in scale_reader:
                    num_no_scale += 1
                    continue
                scale = float(scale_reader[key]) if scale_reader is not None else global_scale
                if scale == 1.0:
                    w.write(key, post)
                elif scale == 0.0:
                    w.write(key, [[] for _ in post])
                else:
                    w.write(key, Posterior.from_lists(post).scaled(scale).to_lists())
                num_scaled += 1
        if scale_reader is not None:
            scale_reader.close()
        log.info(f"Done {num_scaled} posteriors;  {num_no_scale} had no scales.")
        return 0 if num_scaled else 1
    except (ValueError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
