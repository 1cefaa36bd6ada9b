"""evaluate, profile, bench and the experiments runner, on small synthetic data (CPU, offline)."""

import csv
import json

import pytest
import torch
from torch import nn

import senet_lib.training.experiments
from senet_lib.analysis.profiles import profiles_from_json
from senet_lib.checkpoint import read_meta
from senet_lib.cli import main as senet
from senet_lib.paths import REPO_ROOT
from senet_lib.training.bench import format_bench_table, run_benchmark
from senet_lib.training.evaluate import evaluate
from senet_lib.training.experiments import load_grid, load_pairs, run_grid


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A se_resnet20 trained 2 epochs on the synthetic set (its best checkpoint's stem)."""
    run_dir = tmp_path_factory.mktemp("run")
    senet(
        [
            "train",
            "--model",
            "se_resnet20",
            "--dataset",
            "synthetic",
            "--epochs",
            "2",
            "--batch-size",
            "50",
            "--lr",
            "0.1",
            "--device",
            "cpu",
            "--run-dir",
            str(run_dir),
            "--no-progress",
        ]
    )
    return run_dir / "best"


class ConstantClassifier(nn.Module):
    def __init__(self, k: int, num_classes: int):
        super().__init__()
        self.k, self.num_classes, self.anchor = k, num_classes, nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return (
            nn.functional.one_hot(torch.full((x.shape[0],), self.k), self.num_classes).float()
            + 0 * self.anchor
        )


def test_evaluate_known_answer():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    loader = [(torch.zeros(3, 3, 4, 4), labels[:3]), (torch.zeros(3, 3, 4, 4), labels[3:])]
    result = evaluate(ConstantClassifier(2, 3), loader, num_classes=3)
    assert result["accuracy"] == pytest.approx(0.5)
    assert result["per_class_accuracy"] == [0.0, 0.0, 1.0]
    assert result["confusion"] == [[0, 0, 2], [0, 0, 1], [0, 0, 3]]
    assert result["count"] == 6


def test_evaluate_command(trained, tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert senet(["evaluate", str(trained), "--device", "cpu", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["count"] == 100 and len(result["confusion"]) == 10
    assert sum(map(sum, result["confusion"])) == 100
    assert result["accuracy"] == pytest.approx(read_meta(trained)["metrics"]["val_acc"])
    assert "flip_tta" not in result  # only when asked: it costs a second pass


def test_evaluate_command_reports_flip_tta_apart(trained, tmp_path, capsys):
    """--flip-tta adds the flip test-time augmentation figures under their own key, equal to what the training run
    reported for its final weights; the plain accuracy stays the checkpoint's."""
    out = tmp_path / "eval.json"
    final = trained.parent / "latest"
    args = ["evaluate", str(final), "--device", "cpu", "--no-progress", "--flip-tta", "--out", str(out)]
    assert senet(args) == 0
    result = json.loads(out.read_text())
    summary = json.loads((trained.parent / "summary.json").read_text())
    assert result["accuracy"] == pytest.approx(summary["final_val_acc"])
    assert result["flip_tta"]["accuracy"] == pytest.approx(summary["final_val_acc_flip_tta"])
    assert result["flip_tta"]["loss"] > 0
    assert "flip TTA" in capsys.readouterr().out


def test_profile_command_stores_profiles_in_sidecar(trained, capsys):
    assert senet(["profile", str(trained), "--device", "cpu", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "SE_2_1" in printed and "SE_4_3" in printed
    record = read_meta(trained)["class_profiles"]
    profiles = profiles_from_json(record)
    assert list(profiles)[0] == "SE_2_1" and len(profiles) == 9  # 3 stages x 3 blocks
    assert profiles["SE_4_3"].means.shape == (10, 64)
    assert int(profiles["SE_2_1"].counts.sum()) == 100
    assert all(0.0 <= p.specificity <= 1.0 for p in profiles.values())
    assert all(p.spread is not None and p.spread >= 0.0 for p in profiles.values())
    assert "spread" in printed.splitlines()[0]
    assert read_meta(trained)["model"]["name"] == "se_resnet20"  # the rest of the sidecar is kept


def test_bench_runs_small_on_cpu(tmp_path):
    result = run_benchmark(
        "resnet20",
        "se_resnet20",
        device="cpu",
        batch_size=8,
        steps=2,
        warmup=1,
        repeats=2,
        num_workers=0,
        compile=False,
    )
    ips = result["images_per_s"]
    assert ips["textbook"] > 0 and ips["fast_eager"] > 0 and "fast_compiled" not in ips
    assert result["fast_over_textbook"] == pytest.approx(ips["fast_eager"] / ips["textbook"])
    overhead = result["se_overhead"]["eager"]
    assert len(overhead["ratios"]) == 2 and overhead["overhead"] > -1
    assert result["precision"] in ("bf16", "fp32") and result["device"]
    table = format_bench_table(result)
    assert "SE overhead" in table and "img/s" in table
    out = tmp_path / "bench.json"
    args = [
        "bench",
        "--device",
        "cpu",
        "--batch-size",
        "8",
        "--steps",
        "1",
        "--warmup",
        "1",
        "--repeats",
        "1",
        "--num-workers",
        "0",
        "--no-compile",
        "--precision",
        "fp32",
        "--out",
        str(out),
    ]
    assert senet(args) == 0
    written = json.loads(out.read_text())
    assert written["device_type"] == "cpu" and written["precision"] == "fp32"


def test_bench_refuses_impossible_sizes(capsys):
    assert senet(["bench", "--device", "cpu", "--batch-size", "0"]) == 2
    assert "batch_size must be >= 1" in capsys.readouterr().err


SMOKE = """
name: smoke
paper_caption: "paper error (%)"
base: {dataset: synthetic, epochs: 1, batch_size: 50, train_subset: 150, device: cpu, lr: 0.05}
pairs: [[SE-ResNet-20 r=4, ResNet-20]]
rows:
  - {label: ResNet-20, model: resnet20, paper: 8.75}
  - {label: SE-ResNet-20 r=4, model: se_resnet20, model_options: {reduction: 4}}
"""


def test_experiment_grid_runs_resumes_and_tabulates(tmp_path, monkeypatch):
    config = tmp_path / "smoke.yaml"
    config.write_text(SMOKE)
    rows = run_grid(config, seeds=2, out_dir=tmp_path, progress=False)
    assert [len(r.errors) for r in rows] == [2, 2]
    with open(tmp_path / "results" / "smoke.csv") as fh:
        table = list(csv.DictReader(fh))
    assert [r["label"] for r in table] == ["ResNet-20", "SE-ResNet-20 r=4"]
    assert table[0]["paper_error"] == "8.75" and table[0]["seeds"] == "2"
    markdown = (tmp_path / "results" / "smoke.md").read_text()
    assert "| ResNet-20 | 2 |" in markdown and "8.75" in markdown
    assert f"Reproduce: `python -m senet_lib experiments run {config} --seeds 2`" in markdown
    paired = (tmp_path / "results" / "smoke_pairs.md").read_text()
    diffs = [se - plain for se, plain in zip(rows[1].errors, rows[0].errors)]
    mean = sum(diffs) / 2
    assert f"| SE-ResNet-20 r=4 − ResNet-20 | 2 | {mean:+.2f} ± " in paired
    assert ", ".join(f"{d:+.2f}" for d in diffs) in paired
    with open(tmp_path / "results" / "smoke_runs.csv") as fh:
        per_run = list(csv.DictReader(fh))
    assert [(r["label"], r["seed"]) for r in per_run] == [(r.label, str(s)) for r in rows for s in (0, 1)]
    assert [100 * (1 - float(r["final_val_acc"])) for r in per_run] == pytest.approx(
        [e for r in rows for e in r.errors]
    )
    assert all(float(r["compute_seconds"]) > 0 and r["device"] for r in per_run)
    with open(tmp_path / "results" / "smoke_curves.csv") as fh:
        curves = list(csv.DictReader(fh))
    assert [(r["label"], r["seed"], r["epoch"]) for r in curves] == [
        (r.label, str(s), "1") for r in rows for s in (0, 1)
    ]  # one epoch per run
    (run_dir,) = (tmp_path / "runs" / "smoke").glob("se_resnet_20_r_4-s1-*")  # <label>-s<seed>-<recipe id>
    meta = read_meta(run_dir / "best")
    assert meta["model"]["reduction"] == 4 and meta["recipe"]["seed"] == 1

    def no_training(*args, **kwargs):
        raise AssertionError("finished runs must be skipped")

    monkeypatch.setattr(senet_lib.training.experiments, "train", no_training)
    again = run_grid(config, seeds=2, out_dir=tmp_path, progress=False)
    assert [r.errors for r in again] == [r.errors for r in rows]
    command = ["experiments", "run", str(config), "--seeds", "2", "--out-dir", str(tmp_path), "--no-wait"]
    assert senet([*command, "--no-progress"]) == 0  # the command line: every run finished, tables rewritten
    assert (tmp_path / "results" / "smoke.md").read_text() == markdown
    one = run_grid(config, seeds=2, out_dir=tmp_path, progress=False, only=["SE-ResNet-20 r=4"])
    assert [r.label for r in one] == ["SE-ResNet-20 r=4"] and one[0].errors == rows[1].errors
    with pytest.raises(ValueError, match=r"no row labelled \['r=4'\]; the config's rows are"):
        run_grid(config, seeds=1, out_dir=tmp_path, progress=False, only=["r=4"])
    config.write_text(SMOKE.replace("pairs: [[SE-ResNet-20 r=4, ResNet-20]]", "pairs: [[SE, ResNet-20]]"))
    with pytest.raises(ValueError, match=r"each entry of 'pairs' .* is \[row label, row label\]"):
        run_grid(config, seeds=2, out_dir=tmp_path, progress=False)


def test_shipped_experiment_configs_parse():

    from senet_lib.training.config import TrainConfig

    configs = sorted((REPO_ROOT / "experiments").glob("*.yaml"))
    assert len(configs) >= 7
    for path in configs:
        name, base, rows, _ = load_grid(path)
        load_pairs(path, rows)  # every pair names two of the config's rows
        for row in rows:
            TrainConfig.from_dict({**base, **row.fields}).validate()


def test_bad_experiment_config(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rows: []\n")
    with pytest.raises(ValueError, match="lacks \\['name'\\]"):
        load_grid(bad)
    bad.write_text("name: empty\nrows: []\n")
    with pytest.raises(ValueError, match="has no rows; give it at least one"):
        load_grid(bad)
