"""Shared pieces of the notebook generators: the setup cell, cell constructors and the writer."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parents[1]

SETUP = """\
import os
from pathlib import Path

import plotly.io as pio
import torch

# JupyterLab draws the plotly mimetype; the HTML copies (`make notebooks`) use the embedded plotly.js version
pio.renderers.default = "plotly_mimetype+notebook"
QUICK = os.environ.get("SENET_QUICK") == "1"  # CI / quick mode: small everything
ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "pyproject.toml").exists())  # the repo root
torch.manual_seed(0)
print("quick mode" if QUICK else "full mode", "| repo root:", ROOT)"""

# Notebooks 6-8: the shipped SE-ResNet-20 and the images held out from its training.
SHIPPED = """\
from senet_lib.checkpoint import load_model, read_meta
from senet_lib.data import DeviceLoader, normalize
from senet_lib.data import checkpoint_splits
from senet_lib.paths import checkpoints_dir, find_named_dataset

CKPT = checkpoints_dir() / "se_resnet20"
meta = read_meta(CKPT)
model = load_model(CKPT).eval()
classes, norm = meta["classes"], meta["normalization"]
if find_named_dataset("cifar10-jpeg"):  # the 5,000 training images the checkpoint never saw (its recipe's split)
    splits = checkpoint_splits(meta, dataset="cifar10-jpeg", progress=False)
else:  # no CIFAR-10 JPEG copy here: CIFAR-10's official test split (downloaded once into the data folder)
    print("notice: the CIFAR-10 JPEG archive is not on senet_lib.paths.dataset_search_path(); using the test split")
    splits = checkpoint_splits(meta, dataset="cifar10", progress=False, download=True, val_source="test")
val = splits.val
if QUICK:  # a seeded random 500 of them
    val = val.subset(torch.randperm(len(val), generator=torch.Generator().manual_seed(0))[:500])
val_loader = DeviceLoader(val, 250, "cpu", train=False, mean=norm["mean"], std=norm["std"])
print(f"{meta['model']['name']}: validation accuracy {meta['metrics']['val_acc']:.2%} "
      f"(epoch {meta['metrics']['epoch']}); {len(val)} held-out images here")"""


def md(text):
    return new_markdown_cell(text.strip("\n"))


def code(text):
    return new_code_cell(text.strip("\n"))


def solution(text):
    cell = code(text)
    cell.metadata["jupyter"] = {"source_hidden": True}
    cell.metadata["tags"] = ["solution"]
    return cell


def write(name, cells):
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating a notebook gives a clean diff
        cell.id = f"c{i:03d}"
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    nbformat.write(nb, HERE / name)
    print("wrote", HERE / name)
