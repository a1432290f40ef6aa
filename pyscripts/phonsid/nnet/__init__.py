"""Neural networks of the recipe (PyTorch).

x-vectors (Snyder et al. 2018, Kaldi ``egs/sre16/v2`` ``run_xvector_1a.sh``):

- ``xvector``: the TDNN (``XvectorTDNN``, shaped by ``XvectorModelConfig`` from ``conf/xvector.yaml``), model files.
- ``xvector_data``: the egs feature transform (sliding CMN, voiced frames) and Kaldi's length/speaker filters.
- ``xvector_egs``: Kaldi's example allocation, memory-mapped archives, the prefetching reader.
- ``train_xvector``: the trainer (Kaldi's ``train_raw_dnn.py`` schedule; one process or DDP under torchrun).
- ``xvector_extract``: chunked, padded, length-weighted extraction (``load_extractor(exp_dir).embed(feats, vad)``)
  and the TorchScript export.

Bottleneck DNNs (DNN-1, DNN-2, multi-task): ``bnf``, ``bnf_data``, ``frames``, ``train_bnf``, ``extract_bnf``.

Shared by every network here:

- ``training``: Kaldi's nnet3 update (``KaldiSGD``: momentum, max-change), learning-rate schedule, torch.distributed
  set-up, checkpoints, CSV diagnostics.
"""
