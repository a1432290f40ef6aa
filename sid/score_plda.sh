#!/usr/bin/env bash
# Back end of one system, as stages 7-9 of Kaldi's egs/sre16/v2/run.sh: global mean of the PLDA training
# embeddings, LDA (--lda-dim, clipped to what the data allow), length normalisation, PLDA, optional unsupervised
# PLDA adaptation, enrolment averaging (with utterance counts), PLDA scoring of the trials, optional S-norm /
# AS-norm, EER and minDCF.
#
# Usage: sid/score_plda.sh [options] <plda-train-data-dir> <plda-train-vec-dir> <enroll-data-dir> \
#            <enroll-vec-dir> <test-vec-dir> <trials> <out-dir>
#  <plda-train-data-dir>  data dir of the PLDA training set (utt2spk, spk2utt)
#  <plda-train-vec-dir>   its embeddings: xvector.scp or ivector.scp
#  <enroll-data-dir>      data dir of the enrolment set (spk2utt: model -> its utterances)
#  <enroll-vec-dir>       embeddings of the enrolment utterances (xvector.scp or ivector.scp)
#  <test-vec-dir>         embeddings of the test utterances (xvector.scp or ivector.scp)
#  <trials>               '<model> <test-utt> target|nontarget' lines
#  <out-dir>              gets mean.vec, transform.mat, plda[_adapt], spk_xvector.{ark,scp}, num_utts.ark,
#                         scores, eer, min_dcf_<p> (and scores_<norm>, eer_<norm>, min_dcf_<p>_<norm> with
#                         --score-norm), results.txt and log/
# e.g.: sid/score_plda.sh --lda-dim 150 data/sre_combined exp/xvectors_sre_combined data/sre16_eval_enroll \
#         exp/xvectors_sre16_eval_enroll exp/xvectors_sre16_eval_test data/sre16_eval_test/trials exp/scores/xvec
set -euo pipefail

cmd=utils/run.pl           # job launcher (run.pl / slurm.pl); each step runs as one job with its own log
stage=0                    # 0 mean+LDA, 1 PLDA, 2 adaptation, 3 enrolment, 4 scoring, 5 normalisation, 6 metrics
lda_dim=150                # LDA output dimension (reduced, with a warning, to min(dim, #speakers - 1))
covar_factor=0.0           # --total-covariance-factor of the LDA
num_em_iters=10            # PLDA EM iterations
smoothing=0.0              # within-class smoothing applied at scoring time (ivector-copy-plda --smoothing)
normalize_length=true      # PLDA length normalisation at scoring time
simple_length_norm=false   # use the simple length normalisation (to sqrt(dim)) instead
adapt_vec_dir=             # in-domain unlabelled embeddings: adapt the PLDA to them (ivector-adapt-plda)
within_covar_scale=0.75    # adaptation: share of the excess variance given to the within-class covariance
between_covar_scale=0.25   # adaptation: share given to the between-class covariance
score_norm=none            # none, snorm or asnorm (needs --cohort-vec-dir)
cohort_vec_dir=            # embeddings of the score-normalisation cohort
top_n=300                  # AS-norm cohort size per side
p_targets="0.01 0.001"     # minDCF operating points (C_miss = C_fa = 1)

help_message="$(awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0")"
. utils/parse_options.sh

if [ $# -ne 7 ]; then
  echo "$help_message" >&2
  exit 1
fi
plda_data=$1; plda_vec=$2; enroll_data=$3; enroll_vec=$4; test_vec=$5; trials=$6; dir=$7

[ -f ./path.sh ] && . ./path.sh

# The embedding scp of a vector dir: xvector.scp, else ivector.scp.
vec_scp() {
  if [ -f "$1/xvector.scp" ]; then echo "$1/xvector.scp"
  elif [ -f "$1/ivector.scp" ]; then echo "$1/ivector.scp"
  else echo "$0: no xvector.scp or ivector.scp in $1" >&2; return 1; fi
}

plda_scp=$(vec_scp "$plda_vec")
enroll_scp=$(vec_scp "$enroll_vec")
test_scp=$(vec_scp "$test_vec")
for f in "$plda_data/utt2spk" "$plda_data/spk2utt" "$enroll_data/spk2utt" "$trials"; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done
case $score_norm in
  none) ;;
  snorm|asnorm) [ -n "$cohort_vec_dir" ] || { echo "$0: --score-norm $score_norm needs --cohort-vec-dir" >&2; exit 1; }
                cohort_scp=$(vec_scp "$cohort_vec_dir") ;;
  *) echo "$0: --score-norm must be none, snorm or asnorm" >&2; exit 1 ;;
esac
if [ -n "$adapt_vec_dir" ]; then adapt_scp=$(vec_scp "$adapt_vec_dir"); fi

mkdir -p "$dir/log"

# Step failure: name the log.
run() {
  local log=$1; shift
  $cmd "$log" "$@" || { echo "$0: failed, see $log" >&2; tail -n 5 "$log" >&2 || true; exit 1; }
}

# Embeddings as the PLDA sees them: minus the global mean, LDA-projected, length-normalised.
prepared() {  # <rspecifier>
  echo "ark:ivector_subtract_global_mean.py $dir/mean.vec $1 ark:- |" \
       "transform_vec.py $dir/transform.mat ark:- ark:- | ivector_normalize_length.py ark:- ark:- |"
}

if [ "$stage" -le 0 ]; then
  run "$dir/log/mean.log" ivector_mean.py "scp:$plda_scp" "$dir/mean.vec"
  run "$dir/log/lda.log" ivector_compute_lda.py --clip-dim=true --dim="$lda_dim" \
    --total-covariance-factor="$covar_factor" \
    "ark:ivector_subtract_global_mean.py scp:$plda_scp ark:- |" "ark:$plda_data/utt2spk" "$dir/transform.mat"
fi

if [ "$stage" -le 1 ]; then
  run "$dir/log/plda.log" ivector_compute_plda.py --num-em-iters="$num_em_iters" "ark:$plda_data/spk2utt" \
    "$(prepared "scp:$plda_scp")" "$dir/plda"
fi

plda=$dir/plda
if [ -n "$adapt_vec_dir" ]; then
  plda=$dir/plda_adapt
  if [ "$stage" -le 2 ]; then
    run "$dir/log/plda_adapt.log" ivector_adapt_plda.py --within-covar-scale="$within_covar_scale" \
      --between-covar-scale="$between_covar_scale" "$dir/plda" "$(prepared "scp:$adapt_scp")" "$dir/plda_adapt"
  fi
fi

if [ "$stage" -le 3 ]; then
  run "$dir/log/enroll_mean.log" ivector_mean.py "ark:$enroll_data/spk2utt" "scp:$enroll_scp" \
    "ark,scp:$dir/spk_xvector.ark,$dir/spk_xvector.scp" "ark,t:$dir/num_utts.ark"
fi

scores=$dir/scores
if [ "$stage" -le 4 ]; then
  run "$dir/log/score.log" ivector_plda_scoring.py --normalize-length="$normalize_length" \
    --simple-length-normalization="$simple_length_norm" --num-utts="ark:$dir/num_utts.ark" \
    "ivector_copy_plda.py --smoothing=$smoothing $plda - |" \
    "$(prepared "scp:$dir/spk_xvector.scp")" "$(prepared "scp:$test_scp")" \
    "cut -d' ' -f1,2 $trials |" "$dir/scores"
fi

if [ "$score_norm" != none ]; then
  scores=$dir/scores_$score_norm
  if [ "$stage" -le 5 ]; then
    run "$dir/log/score_$score_norm.log" score_norm.py --plda="ivector_copy_plda.py --smoothing=$smoothing $plda - |" \
      --num-utts="ark:$dir/num_utts.ark" --normalize-length="$normalize_length" \
      --simple-length-normalization="$simple_length_norm" --method="$score_norm" --top-n="$top_n" \
      "$(prepared "scp:$dir/spk_xvector.scp")" "$(prepared "scp:$test_scp")" "$(prepared "scp:$cohort_scp")" \
      "cut -d' ' -f1,2 $trials |" "$scores"
  fi
fi

if [ "$stage" -le 6 ]; then
  num_trials=$(wc -l < "$trials")
  : > "$dir/results.txt"
  for s in scores $([ "$score_norm" != none ] && echo "scores_$score_norm"); do
    suffix=${s#scores}   # "" or _snorm / _asnorm
    num_scores=$(wc -l < "$dir/$s")
    if [ "$num_trials" -ne "$num_scores" ]; then
      echo "$0: $num_scores lines in $dir/$s for $num_trials trials" >&2; exit 1
    fi
    # Scores are in trial order: pair each score with its label.
    paste -d' ' <(cut -d' ' -f3 "$dir/$s") <(cut -d' ' -f3 "$trials") > "$dir/score_labels$suffix"
    run "$dir/log/eer$suffix.log" compute_eer.py "$dir/score_labels$suffix" ">" "$dir/eer$suffix"
    summary="EER $(cat "$dir/eer$suffix")%"
    for p in $p_targets; do
      run "$dir/log/min_dcf_$p$suffix.log" compute_min_dcf.py --p-target "$p" --c-miss 1 --c-fa 1 "$dir/$s" "$trials" \
        ">" "$dir/min_dcf_$p$suffix"
      summary="$summary, minDCF($p) $(cat "$dir/min_dcf_$p$suffix")"
    done
    rm -f "$dir/score_labels$suffix"
    echo "$s: $summary" >> "$dir/results.txt"
    echo "$0: $s of $num_trials trials in $dir: $summary"
  done
fi
