"""Gaussian mixture models as Kaldi's gmm/ and fgmm/ code: diagonal and full-covariance GMMs in Kaldi's binary
and text formats, maximum-likelihood E-M with Kaldi's update rules, Gaussian selection and pruned full-GMM
posteriors, initialisation from frames or from (DNN) posteriors, and the speaker-ID feature pipeline run in
process by the tools.

* ``diag_gmm``: DiagGmm, read_diag_gmm / write_diag_gmm
* ``full_gmm``: FullGmm, read_full_gmm / write_full_gmm
* ``mle``: accumulators (Kaldi formats), accumulate_diag / accumulate_full, mle_diag_update / mle_full_update
* ``gselect``: gaussian_selection, gselect_posteriors, ubm_posteriors(_batch)
* ``init``: FrameReservoir, train_diag_gmm_in_memory, init_full_gmm_from_accs
* ``posterior``: Posterior (sparse per-frame posteriors), logprob_to_post
* ``sid_features``: iter_features (add-deltas | sliding CMN | select-voiced-frames in process)
"""

from phonsid.gmm.diag_gmm import DiagGmm, read_diag_gmm, write_diag_gmm
from phonsid.gmm.full_gmm import FullGmm, read_full_gmm, write_full_gmm
from phonsid.gmm.posterior import Posterior, logprob_to_post

__all__ = ["DiagGmm", "FullGmm", "Posterior", "logprob_to_post", "read_diag_gmm", "read_full_gmm", "write_diag_gmm",
           "write_full_gmm"]
