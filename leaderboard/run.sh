#!/usr/bin/env bash
# Reproduces committed leaderboard results at one recipe scale, one run at a time, and adds each to
# leaderboard/<dataset>/<scale>/<model>/split-<k>/ with the exact command.
# Usage: bash leaderboard/run.sh SCALE DATASET "MODEL ..." "SPLIT ..." [THREADS] [-- extra `run` options]
#   cpu-small (one torch thread each, as committed):
#     bash leaderboard/run.sh cpu-small amazon-mi "random-train global-popular item-popular peter nrt att2seq nete" "1 2 3" 1
#     bash leaderboard/run.sh cpu-small synthetic-dense "random-train global-popular item-popular peter nrt att2seq nete mvae mvae-nokl mvae-nomlf mvae-norn mvae-mse" "1 2 3" 1
#   reference (the original codes' published settings; two threads on an otherwise idle machine):
#     bash leaderboard/run.sh reference amazon-mi "random-train global-popular item-popular peter" "1 2 3" 2
#   (synthetic, synthetic-dense: built-in presets, prepared on first use)
# The Musical Instruments data is imported first with:
#   explainbench data import peter ../shared/data/amazon-musical-instruments-5core/peter-format --name amazon-mi
# Run it from a clean checkout of a commit: each results.json records the commit (and +dirty otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
scale=$1; data=$2; models=$3; splits=$4; threads=${5:-1}
shift $(( $# < 5 ? $# : 5 ))
[[ ${1:-} == "--" ]] && shift
eb=".venv/bin/explainbench"
for split in $splits; do
  for model in $models; do
    case $model in
      random-train|global-popular|item-popular) recipe=recipes/reference/$model.yaml ;;
      mvae*) recipe=recipes/mvae/default.yaml ;;
      peter+) recipe=recipes/peter/default.yaml ;;
      *) recipe=recipes/$model/default.yaml ;;
    esac
    cmd="explainbench run --recipe $recipe --model $model --scale $scale --data $data --split $split --threads $threads --no-progress${*:+ $*}"
    echo "== $cmd"
    $eb run --recipe "$recipe" --model "$model" --scale "$scale" --data "$data" --split "$split" --threads "$threads" --no-progress "$@"
    home=${EXPLAINBENCH_HOME:-$HOME/.cache/explainbench}
    run=$(ls -td "$home/runs/$data/split-$split/$model"/*/ | head -1)
    $eb leaderboard add "$run" --command "$cmd"
  done
done
