"""The x-vector Python API: ``phonsid.xvector.load_extractor(exp_dir).embed(features, vad=None)``.

``embed`` applies the recipe's sliding CMN (300 frames, centred), drops unvoiced frames when ``vad`` is given and
returns the length-weighted average of the chunk embeddings, as ``sid/nnet/extract_xvectors.sh`` does.
"""

from phonsid.nnet.xvector_extract import XvectorExtractor, load_extractor

__all__ = ["XvectorExtractor", "load_extractor"]
