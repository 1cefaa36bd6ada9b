#!/usr/bin/env bash
# Reproduce the shipped checkpoints in data/checkpoints/ (CPU: about 2 min per epoch per model, one thread each, on 2 cores).
#   bash experiments/train_checkpoints.sh [EPOCHS] [DATASET]
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-30}
DATASET=${2:-../shared/datasets/cifar10-jpeg-train.tar.gz}
PY=${PY:-.venv/bin/python}
for model in resnet20 se_resnet20; do
  "$PY" -m senet_lib.train --model "$model" --dataset "$DATASET" --epochs "$EPOCHS" --batch-size 128 --lr 0.15 \
      --schedule onecycle --weight-decay 5e-4 --nesterov --seed 0 --device auto --threads 1 \
      --run-dir "runs/ckpt-$model" --no-progress &
done
wait
for model in resnet20 se_resnet20; do  # the final weights (not the best epoch: no tuning on val)
  "$PY" -c "import sys; from senet_lib.checkpoint import load_model, read_meta, save_checkpoint
save_checkpoint(sys.argv[2], load_model(sys.argv[1]), read_meta(sys.argv[1]))" "runs/ckpt-$model/latest" "data/checkpoints/$model"
  case "$model" in se_*) "$PY" -m senet_lib profile "data/checkpoints/$model" --device cpu --no-progress ;; esac
  "$PY" -m senet_lib evaluate "data/checkpoints/$model" --device cpu --out "data/checkpoints/$model.eval.json"
done
