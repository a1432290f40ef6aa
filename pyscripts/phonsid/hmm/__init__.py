"""GMM-HMM acoustic models for phonetic targets: lexicon and lang dirs, HMM topologies, transition models,
per-state diagonal GMMs, triphone decision trees, training graphs, batched Viterbi forced alignment and the
training recipes (monophone flat start, triphones on Δ+ΔΔ), with Kaldi's file formats."""
