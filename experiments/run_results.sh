#!/usr/bin/env bash
# The result grids of issue 9 that this 2-core CPU runs, in order: SE vs plain at depth 56 (3 seeds; depth 20 is
# done and stays in the tables), then the CPU ablations (2 seeds), then what each technique of the 30-minute recipe
# is worth (recipe_techniques, 2 seeds; the issue asks for both), then this project's own question, SE-ResNet-56
# without weight decay on its SE weights (3 seeds, paired with SE-ResNet-56: does keeping its gates moving change
# its accuracy?). Two runners, one
# torch thread each, share each grid (a run is trained by one process only); tables land in experiments/results/ as
# each grid completes (written by its last runner: with --no-wait, a runner left with nothing to train in a grid
# starts the next one instead of waiting for the other's run).
#   bash experiments/run_results.sh           start or continue: unpacks carried runs whose folders are missing
#   bash experiments/run_results.sh --pack    end of a session: carry every grid's runs in git and write the
#                                             tables of its finished rows (commit both)
# Finished runs need no folder to stay in the tables: their committed run records keep them (grid_tables.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
GRIDS=(se_vs_plain ablations_cpu recipe_techniques)
declare -A SEEDS=([se_vs_plain]=3 [ablations_cpu]=2 [recipe_techniques]=2)
if [ "${1:-}" = --pack ]; then
  for grid in "${GRIDS[@]}"; do
    if [ -d "experiments/runs/$grid" ]; then
      "$PY" -m senet_lib carry pack "experiments/runs/$grid" "experiments/carried/$grid"
      "$PY" -m senet_lib experiments tables "experiments/$grid.yaml" --seeds "${SEEDS[$grid]}"
    fi
  done
  exit 0
fi
for grid in "${GRIDS[@]}"; do
  if [ -d "experiments/carried/$grid" ]; then
    "$PY" -m senet_lib carry unpack "experiments/carried/$grid" "experiments/runs/$grid"
  fi
done
runner() {
  local run=(--set threads=1 --no-progress --no-wait)
  "$PY" -m senet_lib experiments run experiments/se_vs_plain.yaml --seeds "${SEEDS[se_vs_plain]}" \
      --row ResNet-56 --row SE-ResNet-56 "${run[@]}"
  "$PY" -m senet_lib experiments run experiments/ablations_cpu.yaml --seeds "${SEEDS[ablations_cpu]}" "${run[@]}"
  "$PY" -m senet_lib experiments run experiments/recipe_techniques.yaml --seeds "${SEEDS[recipe_techniques]}" \
      "${run[@]}"
  "$PY" -m senet_lib experiments run experiments/se_vs_plain.yaml --seeds "${SEEDS[se_vs_plain]}" \
      --row "SE-ResNet-56 (SE weights not decayed)" "${run[@]}"
}
runner &
sleep 60  # the first runner takes its first run before the second looks
runner &
wait
