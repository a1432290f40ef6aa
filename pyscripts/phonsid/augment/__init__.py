"""Data augmentation as Kaldi's recipes do it: reverberation with RIRs and additive noise, music and babble.

- ``reverb``: the arithmetic of Kaldi's ``wav-reverberate`` (block FFT convolution, early-reverb SNR reference,
  shift by the RIR peak, power normalisation, ``--duration`` looping, 16-bit truncation).
- ``command``: the ``wav-reverberate`` command (options, inputs from files, ``-`` and pipes, lazy pipe lines).
- ``datadir``: ``reverberate_data_dir.py`` / ``augment_data_dir.py`` over Kaldi data dirs; VAD copy.
- ``rirsim`` / ``rt60``: calibrated shoebox RIR simulation (pyroomacoustics) and Schroeder RT60 measurement.
- ``corpora``: MUSAN and RIRS_NOISES preparation; ``resample``: the resampling pipe used instead of sox.

Modules are imported on use (``from phonsid.augment import datadir``) so that the ``wav-reverberate`` pipes,
started once per augmented utterance, load only what they need.
"""
