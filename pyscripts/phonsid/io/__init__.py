"""Kaldi table and object I/O on kaldiio: specifiers, arks/scps, pipes, wav.scp, model files.

Names are imported lazily, so tools that only need ``phonsid.io.atomic`` (data-dir scripts) start without numpy.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "KaldiFormatError": "kaldi_object", "KaldiReader": "kaldi_object", "KaldiWriter": "kaldi_object",
    "NonFiniteError": "kaldi_object",
    "read_kaldi_matrix": "kaldi_object", "read_kaldi_vector": "kaldi_object",
    "write_kaldi_matrix": "kaldi_object", "write_kaldi_vector": "kaldi_object",
    "RandomReader": "table", "SequentialReader": "table", "SpecifierError": "table", "TableWriter": "table",
    "parse_rspecifier": "table", "parse_wspecifier": "table", "read_table": "table",
    "KaldiIOError": "xfilename", "open_rxfilename": "xfilename", "open_wxfilename": "xfilename",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"phonsid.io.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'phonsid.io' has no attribute '{name}'")
