#!/usr/bin/env bash
# Kaldi's name for speaker-independent alignment: the same as steps/align.sh (see there for usage).
exec "$(dirname "${BASH_SOURCE[0]}")/align.sh" "$@"
