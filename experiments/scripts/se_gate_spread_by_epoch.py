"""When did se_resnet56's SE blocks stop depending on the image? The spread of every SE layer's gates (how much they
move from image to image: senet_lib.analysis.profiles.excitation_spread) at each epoch whose training state the
repository's history carried (experiments/carried/*-se_resnet56, packed between working sessions), and at the
shipped final epoch. Reads git history, so run it in a clone with its history:

    python experiments/scripts/se_gate_spread_by_epoch.py [--images 1000] [--out experiments/results/F.csv]

Prints one line per epoch (how many of the 27 SE layers are near-constant, and which) and writes the per-layer
spreads as CSV. The images are the first N of the 5,000 held-out validation images (same split as training).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import tempfile
from pathlib import Path

import torch

from senet_lib.analysis.excitation import record_excitations
from senet_lib.analysis.profiles import NEAR_CONSTANT_SPREAD, excitation_spread
from senet_lib.course.data import shipped_model
from senet_lib.se_layers import find_se_layers
from senet_lib.training.carry import MANIFEST_FILE, read_carried

SPREADS = Path("experiments/results/se_resnet56-gate-spread-by-epoch.csv")
CARRIED = ("experiments/carried/long-se_resnet56", "experiments/carried/ship-se_resnet56")


def git(*args: str) -> bytes:
    return subprocess.run(["git", *args], capture_output=True, check=True).stdout


def carried_versions() -> list[tuple[str, str, int]]:
    """(commit, folder, epoch) of every committed version of a carried se_resnet56 run, newest first."""
    versions = []
    for folder in CARRIED:
        for commit in git("log", "--format=%H", "--", f"{folder}/{MANIFEST_FILE}").decode().split():
            if not _exists(commit, f"{folder}/{MANIFEST_FILE}"):
                continue  # the commit that removed the folder
            versions.append(
                (commit, folder, json.loads(git("show", f"{commit}:{folder}/{MANIFEST_FILE}"))["epoch"])
            )
    return versions


def check_out(commit: str, folder: str, dest: str | Path) -> None:
    """Write the files of ``folder`` as they were at ``commit`` into ``dest`` (a carried run: ``carry unpack`` it)."""
    for name in git("ls-tree", "--name-only", f"{commit}:{folder}/").decode().split():
        Path(dest, name).write_bytes(git("show", f"{commit}:{folder}/{name}"))


def carried_state(commit: str, folder: str) -> dict:
    """The training state (model, optimizer, scheduler, ...) carried in ``folder`` at ``commit``."""
    with tempfile.TemporaryDirectory() as tmp:
        check_out(commit, folder, tmp)
        _, state = read_carried(tmp)
    return torch.load(io.BytesIO(state), map_location="cpu", weights_only=True)


def carried_states() -> dict[int, dict]:
    """epoch -> training state, for every commit that changed a carried se_resnet56 run (the newest per epoch)."""
    states = {}
    for commit, folder, epoch in carried_versions():
        if epoch not in states:
            states[epoch] = carried_state(commit, folder)
    return states


def _exists(commit: str, path: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", f"{commit}:{path}"], capture_output=True).returncode == 0


def read_spreads(path: str | Path = SPREADS) -> dict[tuple[int, str], float]:
    """(epoch, SE layer) -> spread, as this script wrote them."""
    with open(path) as fh:
        return {(int(r["epoch"]), r["layer"]): float(r["spread"]) for r in csv.DictReader(fh)}


@torch.no_grad()
def spreads(model, loader) -> dict[str, float]:
    layers = list(find_se_layers(model))
    chunks = {name: [] for name in layers}
    model.eval()
    with record_excitations(model) as rec:
        for images, _ in loader:
            model(images)
            for name in layers:
                chunks[name].append(rec[name])
            rec.clear()
    return {name: excitation_spread(torch.cat(c)) for name, c in chunks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--images", type=int, default=1000, help="held-out images to measure on (default 1000)"
    )
    parser.add_argument("--out", default=str(SPREADS))
    args = parser.parse_args()
    torch.manual_seed(0)
    held = shipped_model("se_resnet56", images=args.images)
    by_epoch = {epoch: state["model"] for epoch, state in sorted(carried_states().items())}
    by_epoch[held.meta["metrics"]["epoch"]] = None  # the shipped weights, already loaded
    shipped = {k: v.clone() for k, v in held.model.state_dict().items()}
    rows = []
    for epoch, state in sorted(by_epoch.items()):
        held.model.load_state_dict(shipped if state is None else state)
        spread = spreads(held.model, held.loader)
        constant = [name for name, v in spread.items() if v < NEAR_CONSTANT_SPREAD]
        print(
            f"epoch {epoch:3d}: {len(constant):2d} of {len(spread)} SE layers near-constant "
            f"(spread < {NEAR_CONSTANT_SPREAD:g}): {', '.join(constant) or 'none'}"
        )
        rows += [{"epoch": epoch, "layer": name, "spread": f"{v:.3e}"} for name, v in spread.items()]
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["epoch", "layer", "spread"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out} ({args.images} held-out images)")


if __name__ == "__main__":
    main()
