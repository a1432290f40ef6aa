"""Kaldi table and object I/O on kaldiio: specifiers, arks/scps, pipes, wav.scp, model files."""

from phonsid.io.kaldi_object import (
    KaldiFormatError,
    KaldiReader,
    KaldiWriter,
    read_kaldi_matrix,
    read_kaldi_vector,
    write_kaldi_matrix,
    write_kaldi_vector,
)
from phonsid.io.table import (
    RandomReader,
    SequentialReader,
    SpecifierError,
    TableWriter,
    parse_rspecifier,
    parse_wspecifier,
    read_table,
)
from phonsid.io.xfilename import KaldiIOError, open_rxfilename, open_wxfilename

__all__ = [
    "KaldiFormatError", "KaldiIOError", "KaldiReader", "KaldiWriter", "RandomReader", "SequentialReader",
    "SpecifierError", "TableWriter", "open_rxfilename", "open_wxfilename", "parse_rspecifier",
    "parse_wspecifier", "read_kaldi_matrix", "read_kaldi_vector", "read_table", "write_kaldi_matrix",
    "write_kaldi_vector",
]
