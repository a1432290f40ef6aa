"""Kaldi data directories: the small text tables (wav.scp, utt2spk, spk2utt, ...) and the tools over them."""

from phonsid.data.kaldi_map import (
    DataDirError,
    c_sorted,
    read_map,
    read_list_map,
    spk2utt_to_utt2spk,
    utt2spk_to_spk2utt,
    write_map,
    write_list_map,
)

__all__ = [
    "DataDirError",
    "c_sorted",
    "read_map",
    "read_list_map",
    "spk2utt_to_utt2spk",
    "utt2spk_to_spk2utt",
    "write_map",
    "write_list_map",
]
