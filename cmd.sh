# Job launchers, one per kind of job, as in Kaldi recipes. Sourced by run.sh.
#
# Local machine (default): utils/run.pl runs the jobs of each step in parallel here.
#   --max-jobs-run caps how many run at once (default: number of CPUs).
export train_cmd="utils/run.pl"
export decode_cmd="utils/run.pl"
export cuda_cmd="utils/run.pl --gpu 1"
# Big-memory jobs (UBM/i-vector training) locally as well.
export big_cmd="utils/run.pl"
