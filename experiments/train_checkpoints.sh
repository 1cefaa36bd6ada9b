#!/usr/bin/env bash
# Reproduce the shipped checkpoints in data/checkpoints/: train with the long recipe, then ship the final epoch.
#   bash experiments/train_checkpoints.sh MODEL [MODEL ...]        e.g. resnet20 se_resnet20 (side by side)
# Each model trains in runs/ship-MODEL (one torch thread each when several run side by side); an interrupted
# run is continued with --resume. Then experiments/ship_run.sh copies its final weights, curves and evaluation.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
THREADS=$(( $# > 1 ? 1 : 0 ))
for model in "$@"; do
  run="runs/ship-$model"
  if [ -f "$run/latest_state.pt" ]; then
    "$PY" -m senet_lib.train --resume "$run" --no-progress &
  else
    "$PY" -m senet_lib.train --config experiments/recipes/cifar10_long.yaml --model "$model" --threads "$THREADS" \
        --run-dir "$run" --no-progress &
  fi
done
wait
for model in "$@"; do
  bash experiments/ship_run.sh "runs/ship-$model" "$model"
done
