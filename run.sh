#!/usr/bin/env bash
# phonsid recipe: speaker recognition with phonetic bottleneck features (Rahman et al., Interspeech 2018).
# Usage: bash run.sh [--stage N] [--stop-stage M] [--corpus NAME] [--nj J]     (bash run.sh --help lists the corpora)
#   Stage 0  data preparation (Kaldi data dirs)      Stage 1  MFCC + VAD, hires MFCC
#   Stage 2  augmentation                            Stage 3  GMM-HMM senone alignments (the DNN targets)
#   Stage 4-5  bottleneck DNNs (BNF, SBNF, MT-SBNF)  Stage 6  i-vector baselines
#   Stage 7  x-vectors                               Stage 8  back end, exp/results.md and the plots
# A corpus is a folder conf/NAME/ whose corpus.sh sets what differs between corpora (see "The corpus" below): its
# data prefix P, sample rate, feature configs, model sizes and its stage 0, which gives the same data dirs for all:
# data/P_asr (transcribed speech for the GMM-HMM and DNN-1; optional data/P_asr2 for DNN-2), data/P_train (speaker
# training), data/P_enroll, data/P_test (+ trials, optional trials_<name> subsets reported as extra columns). One
# corpus per checkout: exp/ and mfcc/ are shared by the stages (exp/corpus records which corpus they hold).
# The first run creates ./venv (tools/install.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

stage=0          # first stage to run
stop_stage=100   # last stage to run
corpus=demo      # conf/<corpus>/corpus.sh; demo: generated here, no download
nj=2             # parallel jobs per step
small=false      # the corpus's small sizes (demo: the small corpus of conf/demo_small.conf, ~10 min of audio, and
                 # tiny models): every stage in a few minutes (the end-to-end test); numbers are meaningless
seed=777         # demo only: generator seed
so762_root=downloads/speechocean762   # speechocean762: the corpus (published layout) or ready Kaldi data dirs
musan_root=      # MUSAN for augmentation; empty: the corpus's default (conf/<corpus>/corpora.conf when it has
                 # one), else the demo generator's synthetic noise/music/babble sources where the corpus has them
rirs_root=       # RIRS_NOISES; empty: the corpus's default (corpora.conf), else simulated rooms
aug_ratio=2      # stage 2: augmented utterances kept = aug_ratio x clean training utterances

corpora() {  # the corpora there are: the folders conf/<corpus>/ with a corpus.sh
  local f names=()
  for f in conf/*/corpus.sh; do [ -f "$f" ] && names+=("$(basename "$(dirname "$f")")"); done
  echo "${names[*]}"
}
help_message="Usage: bash run.sh [options]
Runs the phonsid recipe stage by stage; see README.md. Corpora (--corpus): $(corpora)"
. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

log() {
  # Timestamped stage banner: "2026-11-26 23:59:59 (run.sh:NN:main) message"
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%d %H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}
corpora_conf_get() {  # <conf> <key>: value of 'key=path' in a corpora.conf (empty if absent)
  awk -F= -v k="$2" '!/^[[:space:]]*#/ && $1 == k { sub(/^[^=]*=/, ""); print; exit }' "$1"
}
use_corpora_conf() {  # <corpora.conf>: for corpus.sh; corpora=<it>, MUSAN and RIRS_NOISES from it unless given
  corpora=$1
  [ -f $corpora ] || { echo "run.sh: $corpora is missing (the corpus paths to edit)" >&2; exit 1; }
  [ -n "$musan_root" ] || musan_root=$(corpora_conf_get $corpora musan)
  [ -n "$rirs_root" ] || rirs_root=$(corpora_conf_get $corpora rirs_noises)
}
net_config() {  # <network> <size>: the network's config, conf/<network>.yaml (full) or conf/<network>_<size>.yaml
  if [ "$2" = full ]; then echo conf/$1.yaml; else echo conf/$1_$2.yaml; fi
}

# ------------------------------------------------------------------------------------------------ the corpus
# conf/<corpus>/corpus.sh sets
#   p            data dir prefix (data/P_asr, ...)           fs    sample rate of the data dirs' audio
#   conf         folder of mfcc.conf, mfcc_hires.conf, vad.conf
#   tree_opts    tri1 leaves and Gaussians                   ubm_size, ivector_dim   the i-vector systems' sizes
#   bnf_size, xvector_size   network size presets: full (conf/bnf1.yaml, ...) or S (conf/bnf1_S.yaml, ...)
#   xvector_min_len          shortest utterance (frames) the x-vectors train on
#   corpus_prep              a function: stage 0, writes data/P_*
# and may set (defaults below) extra step options, overrides of the network configs, corpus_noise_sources (a
# function: the augmentation sources when there is no MUSAN) and corpus_small_sizes (a function: the sizes of
# --small true, for a corpus that has them).
mono_opts=(); tri_opts=()   # extra options of steps/train_mono.sh, steps/train_deltas.sh
ubm_opts=; fubm_opts=; ie_opts=   # extra options of sid/train_{diag_ubm,full_ubm,ivector_extractor[_dnn]}.sh
bnf_opts=; xvector_opts=    # overrides "section.key=value ..." of the bottleneck DNNs' and x-vector network's configs
egs_opts=()                 # options of sid/nnet/get_egs.sh
report_opts=()              # extra options of pyscripts/score_report.py
noise_sets=(demo_noise demo_music demo_speech)   # noise, music, babble data dirs without MUSAN (made in stage 0)
corpus_noise_sources() {
  echo "run.sh: no MUSAN (${corpora:+musan= in $corpora or }--musan-root)" >&2; exit 1
}
if [[ $corpus == */* || ! -f conf/$corpus/corpus.sh ]]; then
  echo "run.sh: unknown --corpus '$corpus': no conf/$corpus/corpus.sh (corpora: $(corpora))" >&2; exit 1
fi
. conf/$corpus/corpus.sh
if [ "$small" = true ]; then
  declare -F corpus_small_sizes >/dev/null || {
    echo "run.sh: --small true: conf/$corpus/corpus.sh has no small sizes (corpus_small_sizes)" >&2; exit 1; }
  corpus_small_sizes
fi
for v in p fs conf tree_opts ubm_size ivector_dim bnf_size xvector_size xvector_min_len; do
  [ -n "${!v:-}" ] || { echo "run.sh: conf/$corpus/corpus.sh does not set $v" >&2; exit 1; }
done
declare -F corpus_prep >/dev/null || { echo "run.sh: conf/$corpus/corpus.sh has no corpus_prep (stage 0)" >&2; exit 1; }
for f in $conf/mfcc.conf $conf/mfcc_hires.conf $conf/vad.conf; do
  [ -f $f ] || { echo "run.sh: no $f (conf=$conf in conf/$corpus/corpus.sh)" >&2; exit 1; }
done
bnf1_config=$(net_config bnf1 $bnf_size); sbnf_config=$(net_config sbnf $bnf_size)
mt_sbnf_config=$(net_config mt_sbnf $bnf_size); xvector_config=$(net_config xvector $xvector_size)
for f in $bnf1_config $sbnf_config $mt_sbnf_config $xvector_config; do
  [ -f $f ] || { echo "run.sh: no $f (the size preset of conf/$corpus/corpus.sh)" >&2; exit 1; }
done
asr=${p}_asr; train=${p}_train; enroll=${p}_enroll; test=${p}_test
mkdir -p exp
if [ -f exp/corpus ] && [ "$(cat exp/corpus)" != $corpus ]; then
  echo "run.sh: exp/ holds a '$(cat exp/corpus)' run, not '$corpus': move exp/ and mfcc/ away or use another checkout" >&2
  exit 1
fi
echo $corpus > exp/corpus

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  log "Stage 0: data preparation ($corpus)"
  corpus_prep
  # augmentation sources: MUSAN when given, else the corpus's (the demo generator's synthetic noise/music/babble)
  if [ -n "$musan_root" ]; then
    python local/make_musan.py --sampling-rate $fs $musan_root data
  else
    corpus_noise_sources
  fi
  if [ -n "$rirs_root" ]; then python local/make_rirs.py $rirs_root data/local/rirs; fi
  utils/validate_data_dir.sh --no-feats data/$asr   # transcripts required for the GMM-HMM and DNN-1
  for s in $train $enroll $test; do   # speaker sets: text where the corpus has it (SRE and VoxCeleb have none)
    utils/validate_data_dir.sh --no-feats --no-text data/$s
  done
fi
if [ -n "$musan_root" ]; then noise_sets=(musan_noise musan_music musan_speech); fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  log "Stage 1: MFCC + VAD for every set, hires MFCC (ASR features) for every set"
  for s in $asr $train $enroll $test; do
    steps/make_mfcc.sh --nj $nj --cmd "$train_cmd" --mfcc-config $conf/mfcc.conf --vad-config $conf/vad.conf \
      data/$s exp/make_mfcc/$s mfcc
    utils/fix_data_dir.sh data/$s
    utils/copy_data_dir.sh data/$s data/${s}_hires
    rm -f data/${s}_hires/{feats.scp,vad.scp,utt2num_frames}
    steps/make_mfcc.sh --nj $nj --cmd "$train_cmd" --mfcc-config $conf/mfcc_hires.conf \
      data/${s}_hires exp/make_mfcc/${s}_hires mfcc
    cp data/$s/vad.scp data/${s}_hires/vad.scp   # same frames (snip-edges=false in both configs)
    utils/fix_data_dir.sh data/${s}_hires
  done
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  log "Stage 2: augmentation (reverb, noise, music, babble), subset, features, combine with clean"
  if [ -n "$rirs_root" ]; then
    rir_sets=(--rir-set-parameters "0.5, data/local/rirs/smallroom/rir_list"
              --rir-set-parameters "0.5, data/local/rirs/mediumroom/rir_list")
  else
    python local/simulate_rirs.py --sample-rate $fs --room-types smallroom,mediumroom \
      --num-rooms 5 --rirs-per-room 4 --seed 1 data/local/sim_rirs
    rir_sets=(--rir-set-parameters "0.5, data/local/sim_rirs/simulated_rirs/smallroom/rir_list"
              --rir-set-parameters "0.5, data/local/sim_rirs/simulated_rirs/mediumroom/rir_list")
  fi
  python steps/data/reverberate_data_dir.py "${rir_sets[@]}" \
    --speech-rvb-probability 1 --pointsource-noise-addition-probability 0 \
    --isotropic-noise-addition-probability 0 --num-replications 1 --source-sampling-rate $fs \
    --utt-suffix reverb data/$train data/${train}_reverb
  python steps/data/augment_data_dir.py --utt-suffix noise --fg-interval 1 --fg-snrs 15:10:5:0 \
    --fg-noise-dir data/${noise_sets[0]} data/$train data/${train}_noise
  python steps/data/augment_data_dir.py --utt-suffix music --bg-snrs 15:10:8:5 --num-bg-noises 1 \
    --bg-noise-dir data/${noise_sets[1]} data/$train data/${train}_music
  python steps/data/augment_data_dir.py --utt-suffix babble --bg-snrs 20:17:15:13 --num-bg-noises 3:4:5:6:7 \
    --bg-noise-dir data/${noise_sets[2]} data/$train data/${train}_babble
  rm -rf data/${train}_aug_all data/${train}_aug data/${train}_combined
  utils/combine_data.sh data/${train}_aug_all data/${train}_reverb data/${train}_noise \
    data/${train}_music data/${train}_babble
  num_aug=$(( aug_ratio * $(wc -l < data/$train/utt2spk) ))
  utils/subset_data_dir.sh data/${train}_aug_all $num_aug data/${train}_aug
  rm -f data/${train}_aug/{feats.scp,vad.scp}
  steps/make_mfcc.sh --mfcc-config $conf/mfcc.conf --nj $nj --cmd "$train_cmd" \
    data/${train}_aug exp/make_mfcc/${train}_aug mfcc
  # No VAD on augmented audio: each utterance takes its clean original's (through utt2uniq), as Kaldi.
  python steps/data/augment_data_dir.py --copy-vad-only data/$train data/${train}_aug
  utils/fix_data_dir.sh data/${train}_aug
  utils/combine_data.sh data/${train}_combined data/${train}_aug data/$train
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "Stage 3: lexicon/lang, monophone + triphone GMM-HMM, forced alignment to senones"
  [ -f data/local/dict_$p/lexicon.txt ] || python local/prepare_dict.py data/$asr/text data/local/dict_$p
  python pyscripts/prepare_lang.py data/local/dict_$p "<unk>" data/lang_$p
  # the monophone system on the 10k shortest utterances at most (Kaldi's swbd/librispeech recipes)
  mono_data=data/$asr
  if [ $(wc -l < data/$asr/utt2spk) -gt 10000 ]; then
    utils/subset_data_dir.sh --shortest data/$asr 10000 data/${asr}_10kshort
    mono_data=data/${asr}_10kshort
  fi
  # GMMs on the speaker MFCC (20 ceps, energy C0, snip-edges=false): first 13 + D+DD, speaker CMN
  steps/train_mono.sh --nj $nj --cmd "$train_cmd" "${mono_opts[@]}" --feat-opts "--select-feats=0-12" \
    $mono_data data/lang_$p exp/mono
  steps/align.sh --nj $nj --cmd "$train_cmd" data/$asr data/lang_$p exp/mono exp/mono_ali
  steps/train_deltas.sh --cmd "$train_cmd" "${tri_opts[@]}" $tree_opts data/$asr data/lang_$p exp/mono_ali exp/tri1
  steps/align.sh --nj $nj --cmd "$train_cmd" data/$asr data/lang_$p exp/tri1 exp/tri1_ali
  if [ -f data/$asr/phone_ali.txt ]; then   # the demo knows the true phone alignment
    python local/score_alignment.py data/$asr/phone_ali.txt data/$asr/phones.txt exp/tri1_ali
    log "frame-level phone accuracy against the true alignment: $(tail -n 1 exp/tri1_ali/phone_accuracy.txt)"
  fi
fi

# Bottleneck DNNs: targets are stage 3's senones (exp/tri1_ali: pdf_ali.scp + num_pdfs).
if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "Stage 4: DNN-1 (bottleneck ASR DNN on hires MFCC), BNF data dirs"
  # hires MFCC of the augmented copies (the clean sets got theirs in stage 1), their clean originals' VAD
  utils/copy_data_dir.sh data/${train}_aug data/${train}_aug_hires
  rm -f data/${train}_aug_hires/{feats.scp,vad.scp,utt2num_frames}
  steps/make_mfcc.sh --nj $nj --cmd "$train_cmd" --mfcc-config $conf/mfcc_hires.conf \
    data/${train}_aug_hires exp/make_mfcc/${train}_aug_hires mfcc
  cp data/${train}_aug/vad.scp data/${train}_aug_hires/vad.scp
  utils/fix_data_dir.sh data/${train}_aug_hires
  steps/nnet/train_bnf.sh --cmd "$cuda_cmd" --targets pdfs --bnf-config $bnf1_config \
    --bnf-opts "$bnf_opts" data/${asr}_hires exp/tri1_ali exp/bnf1
  # BNFs of DNN-2's training data only (data/P_asr2, the paper's SWB1 part, when the corpus has it) and of each
  # speaker set once: DNN-1 normalises per utterance, so the combined set is the clean and augmented BNFs combined
  dnn2_set=$asr
  if [ -d data/${p}_asr2 ]; then
    dnn2_set=${p}_asr2
    utils/subset_data_dir.sh --utt-list data/${p}_asr2/utt2spk data/${asr}_hires data/${dnn2_set}_hires
  fi
  for s in $dnn2_set $train $enroll $test ${train}_aug; do
    steps/nnet/make_bottleneck_features.sh --nj $nj --cmd "$train_cmd" exp/bnf1 data/${s}_hires data/${s}_bnf
  done
  rm -rf data/${train}_combined_bnf
  utils/combine_data.sh data/${train}_combined_bnf data/${train}_aug_bnf data/${train}_bnf
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  log "Stage 5: stacked DNN-2 and multi-task DNN-2 on DNN-1 BNFs; SBNF and MT-SBNF data dirs"
  dnn2_data=data/${asr}_bnf
  [ -d data/${p}_asr2 ] && dnn2_data=data/${p}_asr2_bnf   # the paper trains DNN-2 on SWB1 only (stage 4)
  steps/nnet/train_bnf.sh --cmd "$cuda_cmd" --targets pdfs --bnf-config $sbnf_config \
    --bnf-opts "$bnf_opts" $dnn2_data exp/tri1_ali exp/sbnf
  steps/nnet/train_bnf.sh --cmd "$cuda_cmd" --targets pdfs --bnf-config $mt_sbnf_config \
    --bnf-opts "$bnf_opts" $dnn2_data exp/tri1_ali exp/mt_sbnf
  for s in $train $enroll $test ${train}_combined; do
    steps/nnet/make_bottleneck_features.sh --nj $nj --cmd "$train_cmd" exp/sbnf data/${s}_bnf data/${s}_sbnf
    steps/nnet/make_bottleneck_features.sh --nj $nj --cmd "$train_cmd" exp/mt_sbnf data/${s}_bnf data/${s}_mtsbnf
  done
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  log "Stage 6: i-vector baselines (MFCC UBM/i-vector, DNN/i-vector, BNF i-vector)"
  sets="$train $enroll $test"
  # 1) MFCC UBM / i-vector (MFCC+D+DD, sliding CMN 300, voiced frames)
  sid/train_diag_ubm.sh --cmd "$train_cmd" --nj $nj $ubm_opts data/$train $ubm_size exp/ivectors_ubm/diag_ubm
  sid/train_full_ubm.sh --cmd "$train_cmd" --nj $nj $fubm_opts data/$train exp/ivectors_ubm/diag_ubm \
    exp/ivectors_ubm/full_ubm
  sid/train_ivector_extractor.sh --cmd "$train_cmd" --nj $nj --ivector-dim $ivector_dim $ie_opts \
    exp/ivectors_ubm/full_ubm/final.ubm data/$train exp/ivectors_ubm/extractor
  for s in $sets; do
    sid/extract_ivectors.sh --cmd "$train_cmd" --nj $nj exp/ivectors_ubm/extractor data/$s exp/ivectors_ubm/ivectors_$s
  done
  # 2) DNN/i-vector: one Gaussian per DNN-1 senone, statistics on MFCC weighted by DNN-1's senone posteriors,
  #    computed in the jobs from the hires MFCC of the voiced frames (as Kaldi's scripts; nothing stored)
  sid/init_full_ubm_from_dnn.sh --cmd "$train_cmd" --nj $nj data/$train data/${train}_hires exp/bnf1 \
    exp/ivectors_dnn/full_ubm
  sid/train_ivector_extractor_dnn.sh --cmd "$train_cmd" --nj $nj --ivector-dim $ivector_dim $ie_opts \
    exp/ivectors_dnn/full_ubm/final.ubm exp/bnf1 data/$train data/${train}_hires exp/ivectors_dnn/extractor
  for s in $sets; do
    sid/extract_ivectors_dnn.sh --cmd "$train_cmd" --nj $nj exp/ivectors_dnn/extractor exp/bnf1 data/$s \
      data/${s}_hires exp/ivectors_dnn/ivectors_$s
  done
  # 3) BNF i-vector: the same chain on DNN-1 bottleneck features (no deltas), VAD from the MFCC set
  sid/train_diag_ubm.sh --cmd "$train_cmd" --nj $nj $ubm_opts --delta-order 0 data/${train}_bnf $ubm_size \
    exp/ivectors_bnf/diag_ubm
  sid/train_full_ubm.sh --cmd "$train_cmd" --nj $nj $fubm_opts data/${train}_bnf exp/ivectors_bnf/diag_ubm \
    exp/ivectors_bnf/full_ubm
  sid/train_ivector_extractor.sh --cmd "$train_cmd" --nj $nj --ivector-dim $ivector_dim $ie_opts \
    exp/ivectors_bnf/full_ubm/final.ubm data/${train}_bnf exp/ivectors_bnf/extractor
  for s in $sets; do
    sid/extract_ivectors.sh --cmd "$train_cmd" --nj $nj exp/ivectors_bnf/extractor data/${s}_bnf exp/ivectors_bnf/ivectors_$s
  done
fi

if [ $stage -le 7 ] && [ $stop_stage -ge 7 ]; then
  log "Stage 7: x-vector systems (Snyder et al. 2018, Kaldi run_xvector_1a.sh) on MFCC, MFCC+aug, BNF, SBNF, MT-SBNF"
  # <system> <training data dir> <suffix of the feature dirs of the train/enroll/test sets: "-" for MFCC>
  for system in "mfcc $train -" "mfcc_aug ${train}_combined -" "bnf ${train}_combined_bnf _bnf" \
                "sbnf ${train}_combined_sbnf _sbnf" "mt_sbnf ${train}_combined_mtsbnf _mtsbnf"; do
    read -r name tdata sfx <<< "$system"
    [ "$sfx" = - ] && sfx=
    if [ ! -f data/$tdata/feats.scp ] || [ ! -f data/$tdata/vad.scp ]; then
      log "  x-vector $name: no data/$tdata/{feats,vad}.scp; skipped"
      continue
    fi
    nnet=exp/xvector_$name
    log "  x-vector $name: features of data/$tdata"
    sid/nnet/prepare_feats_for_egs.sh --nj $nj --cmd "$train_cmd" --min-len $xvector_min_len --min-num-utts 8 \
      data/$tdata data/${tdata}_no_sil exp/${tdata}_no_sil
    sid/nnet/get_egs.sh --nj $nj --cmd "$train_cmd" "${egs_opts[@]}" data/${tdata}_no_sil $nnet/egs
    sid/nnet/train_xvector.sh --cmd "$cuda_cmd" --xvector-config $xvector_config --xvector-opts "$xvector_opts" \
      $nnet/egs $nnet
    for s in $train $enroll $test; do
      sid/nnet/extract_xvectors.sh --nj $nj --cmd "$train_cmd" $nnet data/$s$sfx $nnet/xvectors_$s
    done
  done
fi

if [ $stage -le 8 ] && [ $stop_stage -ge 8 ]; then
  log "Stage 8: back end (mean, LDA, length norm, PLDA on $train) and evaluation of every system"
  # <system name in the table> <dir holding {xvectors,ivectors}_{train,enroll,test sets}>
  reports=()
  for system in "ivector exp/ivectors_ubm" "dnn_ivector exp/ivectors_dnn" "bnf_ivector exp/ivectors_bnf" \
                "xvector_mfcc exp/xvector_mfcc" "xvector_mfcc_aug exp/xvector_mfcc_aug" \
                "xvector_bnf exp/xvector_bnf" "xvector_sbnf exp/xvector_sbnf" "xvector_mt_sbnf exp/xvector_mt_sbnf"; do
    read -r name dir <<< "$system"
    kind=xvectors; [[ $name == *ivector ]] && kind=ivectors
    if [ ! -d $dir/${kind}_$test ]; then
      log "  $name: no $dir/${kind}_$test; not scored"
      continue
    fi
    sid/score_plda.sh --cmd "$train_cmd" --lda-dim 150 data/$train $dir/${kind}_$train \
      data/$enroll $dir/${kind}_$enroll $dir/${kind}_$test data/$test/trials exp/scores/$name
    reports+=("$name=exp/scores/$name/scores")
  done
  if [ ${#reports[@]} -gt 0 ]; then
    subset_opts=()   # every extra trial list (e.g. trials_adult, trials_child) is an extra EER column
    for f in data/$test/trials_*; do
      [ -f "$f" ] && subset_opts+=(--subset "${f##*/trials_}=$f")
    done
    python pyscripts/score_report.py --paper-tables --corpus "$corpus" "${report_opts[@]}" \
      --trials data/$test/trials "${subset_opts[@]}" \
      --data-dir "train=data/$train" --data-dir "enroll=data/$enroll" --data-dir "test=data/$test" \
      --info "UBM Gaussians / i-vector dim=$ubm_size / $ivector_dim" --info "augmented / clean=$aug_ratio" \
      --info "DNN configs=$bnf1_config, $sbnf_config, $mt_sbnf_config${bnf_opts:+ + $bnf_opts}" \
      --info "x-vector config=$xvector_config${xvector_opts:+ + $xvector_opts}" \
      --det-plot exp/results_det.png --bar-plot exp/results_eer.png --title "phonsid ($corpus)" \
      --out exp/results.md "${reports[@]}"
    cat exp/results.md
  fi
fi

log "Done (stages $stage..$stop_stage)."
