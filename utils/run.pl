#!/usr/bin/env python3
# Runs jobs locally in parallel with Kaldi's run.pl command line; see pyscripts/phonsid/jobs.py.
# Usage: utils/run.pl [--max-jobs-run K] [--num-threads N] [--mem M] [JOB=1:N] <log-file> <command...>
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), os.pardir, "pyscripts"))
from phonsid.jobs import main  # noqa: E402

main()
