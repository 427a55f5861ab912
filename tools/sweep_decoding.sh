#!/usr/bin/env bash
# Scores a 313-bin classifier under a grid of decodings (annealed-mean temperature x rebalancing
# lambda) on photos of the training split, so the decoding a model ships with is chosen on
# photos it was trained on, never on the validation photos it is judged on.
#   tools/sweep_decoding.sh MODEL [DATA] [IMAGES] [TEMPERATURES] [LAMBDAS]
#   tools/sweep_decoding.sh runs/classifier/checkpoint.ckpt ../shared/data/train 400 "0.38 0.6" "1 0.7 0.5"
# Prints one line per decoding: PSNR and CIEDE2000 against gray, colourfulness against the truth's.
set -euo pipefail
model=${1:?usage: tools/sweep_decoding.sh MODEL [DATA] [IMAGES] [TEMPERATURES] [LAMBDAS]}
data=${2:-../shared/data/train}
images=${3:-400}
temperatures=${4:-"0.38 0.6 1"}
lambdas=${5:-"1 0.7 0.5 0.35 0.2"}
chroma=${CHROMA:-build/apps/chroma/chroma}
printf '%-34s %s\n' "decoding" "model - gray on $images training photos"
for t in $temperatures; do
    for l in $lambdas; do
        decoding="annealed:$t"
        [[ "$l" != 1 ]] && decoding+=",rebalance:$l"
        scores=$("$chroma" evaluate --data "$data" --split train --images "$images" --model "$model" \
                 --decode "$decoding" --grid none --quiet | grep '^model - gray')
        printf '%-34s %s\n' "$decoding" "${scores#model - gray: }"
    done
done
