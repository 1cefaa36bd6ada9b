#!/usr/bin/env bash
# Ship a finished training run as data/checkpoints/NAME: its final-epoch weights (never the best epoch: no
# choice is made on the validation split), training curves, evaluation and (SE models) class profiles and excitation probes.
#   bash experiments/ship_run.sh RUN_DIR NAME
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
run=$1; name=$2; out="data/checkpoints/$name"
test -f "$run/summary.json" || { echo "error: $run has no summary.json: the run has not finished" >&2; exit 2; }
"$PY" - "$run/latest" "$out" <<'PYEOF'
import sys
from senet_lib.checkpoint import load_model, read_meta, save_checkpoint
save_checkpoint(sys.argv[2], load_model(sys.argv[1]), read_meta(sys.argv[1]))
PYEOF
cp "$run/metrics.jsonl" "$out.metrics.jsonl"
case "$name" in se_*)
  "$PY" -m senet_lib profile "$out" --device cpu --no-progress
  "$PY" -m senet_lib probe "$out" --device cpu --no-progress ;;
esac
"$PY" -m senet_lib evaluate "$out" --device cpu --no-progress --flip-tta --out "$out.eval.json"
