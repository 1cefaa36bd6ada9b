#!/usr/bin/env bash
# Reproduce the shipped checkpoints in data/checkpoints/: train with the long recipe, then ship the final epoch.
#   bash experiments/train_checkpoints.sh MODEL [MODEL ...]          e.g. resnet20 se_resnet20 (side by side)
#   bash experiments/train_checkpoints.sh --pack MODEL [MODEL ...]   end of a session: carry the runs in git
# Each model trains in runs/ship-MODEL (one torch thread each when several run side by side); an interrupted
# run is continued with --resume. A run that outlasts a working session travels in the repository: --pack
# writes experiments/carried/ship-MODEL (commit it); on the next machine the same command unpacks it first, if
# runs/ship-MODEL is missing, and continues it. Then experiments/ship_run.sh copies the final weights, curves and
# evaluation, and the carried folder goes (commit that too).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
if [ "${1:-}" = --pack ]; then
  shift
  for model in "$@"; do
    "$PY" -m senet_lib carry pack "runs/ship-$model" "experiments/carried/ship-$model"
  done
  exit 0
fi
THREADS=$(( $# > 1 ? 1 : 0 ))
for model in "$@"; do
  run="runs/ship-$model" carried="experiments/carried/ship-$model"
  if [ ! -d "$run" ] && [ -f "$carried/carried.json" ]; then
    "$PY" -m senet_lib carry unpack "$carried" "$run"
  fi
  if [ -f "$run/latest_state.pt" ] || [ -f "$run/summary.json" ]; then
    "$PY" -m senet_lib.train --resume "$run" --no-progress &
  else
    "$PY" -m senet_lib.train --config experiments/recipes/cifar10_long.yaml --model "$model" --threads "$THREADS" \
        --run-dir "$run" --no-progress &
  fi
done
wait
for model in "$@"; do
  bash experiments/ship_run.sh "runs/ship-$model" "$model"
  rm -rf "experiments/carried/ship-$model"
done
