"""The embedded demo corpus: a seeded synthetic multi-speaker telephone-speech corpus at 8 kHz.

``make_demo_corpus`` writes Kaldi data dirs (asr with true phone alignments, train, enroll/test with trials,
MUSAN-like noise/music/speech sources) and a dict dir; see ``phonsid.recipes.demo.corpus`` for the layout.
"""

from phonsid.recipes.demo.corpus import (
    DEFAULT_SEED,
    SMALL_OVERRIDES,
    DemoConfig,
    SetSummary,
    make_demo_corpus,
    small_config,
)

__all__ = ["DEFAULT_SEED", "SMALL_OVERRIDES", "DemoConfig", "SetSummary", "make_demo_corpus", "small_config"]
