# Sourced by sid/init_full_ubm_from_dnn.sh, sid/train_ivector_extractor.sh and sid/extract_ivectors.sh: the per-job
# command that gives the DNN senone posteriors of the voiced frames, pruned (logprob_to_post.py).
#
# dnn_posteriors_cmd <sdata> <work-dir> <num-jobs> <wspecifier> [logprob_to_post.py options]
#   reads $dnn and $dnn_data (the DNN runs in each job on the voiced frames of $dnn_data's features, as Kaldi's
#   *_dnn.sh scripts pipe nnet-compute | select-voiced-frames | logprob-to-post), or else $logprob_scp (stored
#   log-posteriors of every frame), and $use_gpu; writes <work-dir>/dnn_in.<job>.scp (the job's part of the input
#   table, by <sdata>/<job>/utt2spk) and sets the array posteriors_cmd (with JOB in it, for utils/run.pl).
dnn_posteriors_cmd() {
  local sdata=$1 dir=$2 njobs=$3 wspecifier=$4; shift 4
  local in_scp=$logprob_scp j
  local -a vad_opt=(--vad-rspecifier=scp:$sdata/JOB/vad.scp) src=(scp:$dir/dnn_in.JOB.scp) pre=()
  if [ -n "$dnn" ]; then
    in_scp=$dnn_data/feats.scp
    pre=(nnet_bnf_compute.py --output=log-posteriors --use-gpu=$use_gpu "${vad_opt[@]}" "$dnn" "${src[@]}" ark:- \|)
    vad_opt=(); src=(ark:-)
  fi
  for j in $(seq "$njobs"); do
    utils/filter_scp.pl "$sdata/$j/utt2spk" "$in_scp" > "$dir/dnn_in.$j.scp"
  done
  posteriors_cmd=("${pre[@]}" logprob_to_post.py "$@" "${vad_opt[@]}" "${src[@]}" "$wspecifier")
}
