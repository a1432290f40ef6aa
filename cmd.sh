# Job launchers, one per kind of job, as in Kaldi recipes. Sourced by run.sh. Keep one set-up.
# 1) Local machine (default): utils/run.pl runs each step's jobs in parallel here
#    (--max-jobs-run caps how many at once; default: number of CPUs).
export train_cmd="utils/run.pl"
export decode_cmd="utils/run.pl"
export cuda_cmd="utils/run.pl --gpu 1"
export big_cmd="utils/run.pl"
# 2) Slurm: utils/slurm.pl submits each step as one sbatch array job and waits for it. sbatch options come
#    from conf/slurm.conf (--mem -> --mem, --num-threads -> --cpus-per-task, --gpu N -> --gres=gpu:N
#    --partition=gpu; put your partitions/account on its 'command' line). The recipe dir and venv must be
#    on a file system the nodes share; tasks run in the submitting dir with the submitting environment.
# export train_cmd="utils/slurm.pl --mem 4G"
# export decode_cmd="utils/slurm.pl --mem 4G"
# export cuda_cmd="utils/slurm.pl --gpu 1 --mem 16G"   # multi-GPU steps add --gpu N themselves
# export big_cmd="utils/slurm.pl --mem 16G"
# 3) SGE: Kaldi's utils/queue.pl has the same command line (conf/queue.conf); not shipped with phonsid and
#    untested here.
