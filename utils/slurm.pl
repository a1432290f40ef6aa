#!/usr/bin/env python3
# Runs jobs as one Slurm array job with Kaldi's slurm.pl command line; see pyscripts/phonsid/slurm.py.
# Usage: utils/slurm.pl [--mem M] [--num-threads N] [--gpu G] [--max-jobs-run K] [--time T]
#                       [--config conf/slurm.conf] [JOB=1:N] <log-file> <command...>
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), os.pardir, "pyscripts"))
from phonsid.slurm import main  # noqa: E402

main()
