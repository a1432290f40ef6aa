"""Kaldi's i-vector extractor: the model and its binary/text format (``extractor``), per-utterance
statistics, the i-vector posterior and Kaldi's auxiliary function batched over utterances (``estimation``),
training statistics (``stats``), the M-step (``update``) and the table loops of the tools (``tools``)."""

from phonsid.ivector.estimation import BatchStats, batch_stats, extract_ivectors, ivector_distribution
from phonsid.ivector.extractor import (IvectorExtractor, init_ivector_extractor, read_ivector_extractor,
                                       write_ivector_extractor)
from phonsid.ivector.stats import IvectorExtractorStats, StatsAccumulator, read_ivector_stats, write_ivector_stats
from phonsid.ivector.update import IvectorEstimationOptions, update_extractor

__all__ = ["BatchStats", "IvectorEstimationOptions", "IvectorExtractor", "IvectorExtractorStats", "StatsAccumulator",
           "batch_stats", "extract_ivectors", "init_ivector_extractor", "ivector_distribution", "read_ivector_extractor",
           "read_ivector_stats", "update_extractor", "write_ivector_extractor", "write_ivector_stats"]
