"""A GMM-HMM acoustic model file (Kaldi's ``final.mdl`` for GMM systems): the transition model followed by
the per-pdf diagonal GMMs."""

from __future__ import annotations

import dataclasses

from phonsid.io import KaldiReader, KaldiWriter
from phonsid.io.kaldi_object import KaldiFormatError
from phonsid.hmm.gmm import AmDiagGmm, read_am_diag_gmm_from, write_am_diag_gmm_to
from phonsid.io.kaldi_object import read_object_file, write_object_file
from phonsid.hmm.transition_model import TransitionModel, read_transition_model_from, write_transition_model_to


@dataclasses.dataclass
class GmmHmmModel:
    trans: TransitionModel
    am: AmDiagGmm

    def __post_init__(self) -> None:
        if self.trans.num_pdfs != self.am.num_pdfs:
            raise ValueError(f"transition model has {self.trans.num_pdfs} pdfs, the GMMs {self.am.num_pdfs}")

    @property
    def num_pdfs(self) -> int:
        return self.am.num_pdfs


def read_gmm_model(rxfilename: str) -> GmmHmmModel:
    """Reads a Kaldi GMM model (``TransitionModel`` + ``AmDiagGmm``), binary or text."""

    def read(r: KaldiReader) -> GmmHmmModel:
        tm = read_transition_model_from(r)
        am = read_am_diag_gmm_from(r)
        try:
            return GmmHmmModel(tm, am)
        except ValueError as e:
            raise KaldiFormatError(f"{rxfilename}: {e}") from None

    return read_object_file(rxfilename, read)


def write_gmm_model(wxfilename: str, model: GmmHmmModel, binary: bool = True) -> None:
    """Writes a Kaldi GMM model that Kaldi's ``gmm-*`` tools can read."""

    def write(w: KaldiWriter) -> None:
        write_transition_model_to(w, model.trans)
        write_am_diag_gmm_to(w, model.am)

    write_object_file(wxfilename, binary, write)
