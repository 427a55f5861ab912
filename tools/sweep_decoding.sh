#!/usr/bin/env bash
# Scores a 313-bin classifier under a grid of decodings (annealed-mean temperature x rebalancing
# lambda) on photos of the training split, so the decoding a model ships with is chosen on
# photos it was trained on, never on the validation photos it is judged on.
#   tools/sweep_decoding.sh MODEL [DATA] [IMAGES] [TEMPERATURES] [LAMBDAS] [MIRROR]
#   tools/sweep_decoding.sh runs/classifier/checkpoint.ckpt ../shared/data/train 400 "0.38 0.6" "1 0.7 0.5"
# IMAGES 0 scores every photo of the split (the bundled decoding was fitted on all 3,139).
# MIRROR (yes or no, default no) is colorize's --mirror-average. SPLIT=calibration (with
# CALIBRATION_FRACTION, default 0.1) scores the photos a run's --calibration-fraction left out
# instead: training photos the model never saw.
# Prints one line per decoding: PSNR and CIEDE2000 against gray, colourfulness against the truth's
# (with the model's and the truth's colourfulness, so the ratio can be read past two decimals), and
# that ratio's 95% bootstrap interval over the photos. The bundled decoding is the least
# rebalancing whose interval lies at or above 0.6: colourful enough on photos like these, not
# only on this sample of them.
set -euo pipefail
model=${1:?usage: tools/sweep_decoding.sh MODEL [DATA] [IMAGES] [TEMPERATURES] [LAMBDAS]}
data=${2:-../shared/data/train}
images=${3:-400}
temperatures=${4:-"0.38 0.6 1"}
lambdas=${5:-"1 0.7 0.5 0.35 0.2"}
mirror=${6:-no}
split=${SPLIT:-train}
calibration_fraction=${CALIBRATION_FRACTION:-0.1}
chroma=${CHROMA:-build/apps/chroma/chroma}
printf '%-34s %s\n' "decoding" "model - gray on $( ((images > 0)) && echo "$images" || echo all) $split photos"
for t in $temperatures; do
    for l in $lambdas; do
        decoding="annealed:$t"
        [[ "$l" != 1 ]] && decoding+=",rebalance:$l"
        report=$("$chroma" evaluate --data "$data" --split "$split" --calibration-fraction "$calibration_fraction" --images "$images" --model "$model" \
                 --decode "$decoding" --mirror-average "$mirror" --grid none --quiet)
        scores=$(grep '^model - gray' <<<"$report")
        ratio=$(awk '$1 == "model" && $2 != "-" { m = $5 } $1 == "ground" { t = $6 } END { if (t > 0) printf "%.3f", m / t }' <<<"$report")
        interval=$(sed -n "s/.*colourfulness \([0-9.]*\) to \([0-9.]*\) of the truth's/\1-\2/p" <<<"$report")
        printf '%-34s %s (%s, 95%%: %s)\n' "$decoding" "${scores#model - gray: }" "$ratio" "$interval"
    done
done
