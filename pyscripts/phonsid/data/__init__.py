"""Kaldi data directories: the small text tables (wav.scp, utt2spk, spk2utt, ...) and the tools over them.

Tables: :func:`read_map` / :func:`read_list_map` (data-dir files), :func:`read_token_lists` /
:func:`read_token_map` (token tables given as rspecifiers, as Kaldi's binaries take spk2utt and utt2spk),
:func:`utt2spk_to_spk2utt` (sorted, or in the order Kaldi's perl prints).

Tools (each also a ``utils/`` script with Kaldi's name): :func:`validate_data_dir`, :func:`fix_data_dir`,
:func:`split_data`, :func:`subset_data_dir`, :func:`combine_data`, :func:`copy_data_dir`,
:func:`get_utt2dur`, :func:`get_utt2num_frames`; stream tools (filter_scp, utt2spk_to_spk2utt,
spk2utt_to_utt2spk) in :mod:`phonsid.data.scp`; step stamps (whether a step may skip its work) in
:mod:`phonsid.data.stamp`.
"""

from phonsid.data.kaldi_map import (
    DataDirError,
    c_sorted,
    read_map,
    read_list_map,
    read_token_lists,
    read_token_map,
    spk2utt_to_utt2spk,
    utt2spk_to_spk2utt,
    write_map,
    write_list_map,
)
from phonsid.data.datadir import DataDir, Line, read_lines
from phonsid.data.validate import validate_data_dir
from phonsid.data.fix import FixReport, fix_data_dir
from phonsid.data.split import split_data, split_dir_name, split_is_current
from phonsid.data.subset import subset_data_dir
from phonsid.data.combine import combine_data
from phonsid.data.copy import copy_data_dir
from phonsid.data.staging import replace_dir, staged_dir
from phonsid.data.durations import compute_utt2dur, feature_lengths, get_utt2dur, get_utt2num_frames

__all__ = [
    "DataDir",
    "DataDirError",
    "FixReport",
    "Line",
    "c_sorted",
    "combine_data",
    "compute_utt2dur",
    "copy_data_dir",
    "feature_lengths",
    "fix_data_dir",
    "replace_dir",
    "staged_dir",
    "get_utt2dur",
    "get_utt2num_frames",
    "read_lines",
    "read_map",
    "read_list_map",
    "read_token_lists",
    "read_token_map",
    "split_data",
    "split_dir_name",
    "split_is_current",
    "spk2utt_to_utt2spk",
    "subset_data_dir",
    "utt2spk_to_spk2utt",
    "validate_data_dir",
    "write_map",
    "write_list_map",
]
