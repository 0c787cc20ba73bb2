#!/usr/bin/env bash
# Reproduces the committed leaderboard results at the recipes' cpu-small scale (one torch thread each).
# Usage: bash leaderboard/run_cpu_small.sh DATASET "MODEL ..." "SPLIT ..."
#   e.g. bash leaderboard/run_cpu_small.sh amazon-mi "random-train global-popular item-popular peter nrt att2seq nete" "1 2 3"
#   bash leaderboard/run_cpu_small.sh synthetic-dense "random-train global-popular item-popular peter nrt att2seq nete mvae mvae-nokl mvae-nomlf mvae-norn mvae-mse" "1 2 3"
#   (synthetic, synthetic-dense: built-in presets, prepared on first use)
# The Musical Instruments data is imported first with:
#   explainbench data import peter ../shared/data/amazon-musical-instruments-5core/peter-format --name amazon-mi
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; models=$2; splits=$3
eb=".venv/bin/explainbench"
for split in $splits; do
  for model in $models; do
    case $model in
      random-train|global-popular|item-popular) recipe=recipes/reference/$model.yaml ;;
      mvae*) recipe=recipes/mvae/default.yaml ;;
      *) recipe=recipes/$model/default.yaml ;;
    esac
    cmd="explainbench run --recipe $recipe --model $model --scale cpu-small --data $data --split $split --threads 1 --no-progress"
    echo "== $cmd"
    $eb run --recipe "$recipe" --model "$model" --scale cpu-small --data "$data" --split "$split" --threads 1 --no-progress
    home=${EXPLAINBENCH_HOME:-$HOME/.cache/explainbench}
    run=$(ls -td "$home/runs/$data/split-$split/$model"/*/ | head -1)
    $eb leaderboard add "$run" --command "$cmd"
  done
done
