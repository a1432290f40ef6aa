"""phonsid: a Kaldi-style speaker-recognition recipe in Python/PyTorch."""

__version__ = "0.1.0"
