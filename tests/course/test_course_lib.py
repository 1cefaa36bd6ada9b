"""The course's library pieces: tiers, shipped results, training cells that resume, interactive output."""

import json

import pytest

import senet_lib.course.data as course_data
from senet_lib.course.display import _bundle
from senet_lib.course.results import (
    difference,
    paper_table_rows,
    paper_table_so_far,
    se_pairs,
    shipped_curves,
    shipped_table,
    shipped_text,
)
from senet_lib.course.tiers import EXPECTED_SECONDS, TIER_ENV, expected_time, resolve_tier, setup
from senet_lib.course.training import course_run_dir, recipe_key, train_or_resume
from senet_lib.paths import REPO_ROOT
from senet_lib.training.config import TrainConfig
from senet_lib.training.experiments import load_grid

# ------------------------------------------------------------------------------------------------ tiers


def test_tier_comes_from_the_argument_then_the_environment_then_the_machine(monkeypatch):
    monkeypatch.delenv(TIER_ENV, raising=False)
    monkeypatch.delenv("SENET_QUICK", raising=False)
    assert resolve_tier("laptop") == "laptop"
    monkeypatch.setenv(TIER_ENV, "quick")
    assert resolve_tier() == "quick" and resolve_tier("full") == "full"
    monkeypatch.delenv(TIER_ENV)
    monkeypatch.setenv("SENET_QUICK", "1")
    assert resolve_tier() == "quick"
    monkeypatch.delenv("SENET_QUICK")
    assert resolve_tier() in ("laptop", "full")
    with pytest.raises(ValueError, match="unknown tier 'fast'"):
        resolve_tier("fast")


def test_setup_prints_the_tier_and_its_expected_time(capsys):
    course = setup("05", "laptop")
    out = capsys.readouterr().out
    assert course.tier == "laptop" and not course.quick and course.pick(1, 2, 3) == 2
    assert "tier: laptop" in out and "expected run time of this notebook: about" in out
    assert "not measured" in expected_time("05", "full")


def test_every_notebook_has_a_measured_laptop_time_within_ten_minutes():
    assert set(EXPECTED_SECONDS) == {f"{i:02d}" for i in range(1, 10)}
    assert all(t["laptop"] <= 600 and t["quick"] <= 60 for t in EXPECTED_SECONDS.values())


# ------------------------------------------------------------------------------------------------ shipped results


def test_a_missing_result_says_so_with_the_command(tmp_path):
    table = shipped_table("no_such_table", results_dir=tmp_path)
    assert not table.found and table.data is None
    assert "NOT SHIPPED YET" in table.note() and "python -m senet_lib experiments run" in table.note()
    curves = shipped_curves("no_such_model")
    assert not curves.found and "bash experiments/train_checkpoints.sh no_such_model" in curves.note()


def test_a_shipped_table_is_read_and_compared(tmp_path):
    (tmp_path / "se_vs_plain.csv").write_text(
        "label,seeds,error_mean,error_std,paper_error,errors\n"
        "ResNet-20,3,8.00,0.20,,7.80 8.00 8.20\n"
        "SE-ResNet-20,3,7.50,0.10,,7.40 7.50 7.60\n"
        "ResNet-56,1,6.00,0.00,6.97,6.00\n"
    )
    table = shipped_table("se_vs_plain", results_dir=tmp_path)
    assert table.found and "PRECOMPUTED" in table.note() and "se_vs_plain.yaml --seeds 3" in table.note()
    rows = {row.label: row for row in table.data}
    assert rows["ResNet-20"].errors == [7.8, 8.0, 8.2] and rows["ResNet-56"].paper == 6.97
    [(plain, se)] = se_pairs(table.data)
    assert (plain.label, se.label) == ("ResNet-20", "SE-ResNet-20")
    diff, spread = difference(se, plain)
    assert diff == pytest.approx(-0.5) and spread == pytest.approx((0.01 / 3 + 0.04 / 3) ** 0.5)


def test_one_paper_table_is_picked_from_a_grid_that_holds_them_all(tmp_path):
    (tmp_path / "ablations_cpu.csv").write_text(
        "label,seeds,error_mean,error_std,paper_error,errors\n"
        "ResNet-20 (no SE),2,15.0,0.1,23.30,14.9 15.1\n"
        "SE (reference),2,14.0,0.1,22.28,13.9 14.1\n"
        "r = 2 (Table 10),2,14.2,0.1,22.29,14.1 14.3\n"
        "max squeeze (Table 11),2,14.5,0.1,22.57,14.4 14.6\n"
        "r = 32 (Table 10),2,14.4,0.1,22.72,14.3 14.5\n"
        "SE weights not decayed,2,13.9,0.1,,13.8 14.0\n"
    )
    table = shipped_table("ablations_cpu", results_dir=tmp_path)
    assert "ablations_cpu.yaml --seeds 2" in table.note()
    (tmp_path / "ablations_cpu_pairs.md").write_text("| pair | seeds |\n")
    pairs = shipped_text("ablations_cpu_pairs", config="ablations_cpu", results_dir=tmp_path)
    assert pairs.found and "ablations_cpu.yaml --seeds 2" in pairs.note()
    rows = table.data
    labels = [row.label for row in paper_table_rows(rows, 10)]
    assert labels == ["ResNet-20 (no SE)", "SE (reference)", "r = 2 (Table 10)", "r = 32 (Table 10)"]
    assert [row.label for row in paper_table_rows(rows, 11)][-1] == "max squeeze (Table 11)"
    with pytest.raises(ValueError, match=r"no row is labelled '\(Table 12\)'.* tables \[10, 11\]"):
        paper_table_rows(rows, 12)


def test_a_grid_part_way_through_shows_the_rows_of_a_paper_table_that_have_finished(tmp_path):
    """ablations_cpu ships its tables as rows finish: Table 10 shows its finished rows and names the others; a table
    none of whose own rows has finished shows nothing (the shared baselines alone compare nothing)."""
    (tmp_path / "ablations_cpu.csv").write_text(
        "label,seeds,error_mean,error_std,paper_error,errors\n"
        "ResNet-20 (no SE),2,15.4,0.2,23.30,15.6 15.2\n"
        "SE (reference),2,15.6,0.5,22.28,15.9 15.2\n"
        "r = 2 (Table 10),2,15.8,0.3,22.29,16.1 15.6\n"
    )
    shipped = shipped_table("ablations_cpu", results_dir=tmp_path).data
    planned = load_grid(REPO_ROOT / "experiments" / "ablations_cpu.yaml")[2]
    rows, waiting = paper_table_so_far(shipped, planned, 10)
    assert [row.label for row in rows] == ["ResNet-20 (no SE)", "SE (reference)", "r = 2 (Table 10)"]
    assert rows[2].errors == [16.1, 15.6]  # the shipped numbers, not the config's
    assert waiting == ["r = 4 (Table 10)", "r = 8 (Table 10)", "r = 32 (Table 10)"]
    rows, waiting = paper_table_so_far(shipped, planned, 12)
    assert rows == [] and waiting == ["tanh gate (Table 12)", "ReLU gate (Table 12)"]
    with pytest.raises(ValueError, match=r"no row is labelled '\(Table 9\)'"):
        paper_table_so_far(shipped, planned, 9)


# ------------------------------------------------------------------------------------------------ training cells


def _cfg(**changes) -> TrainConfig:
    fields = {"model": "resnet20", "dataset": "synthetic", "epochs": 2, "batch_size": 50, "train_subset": 100}
    return TrainConfig(
        **{**fields, "val_size": 50, "device": "cpu", "lr": 0.05, "progress": False, **changes}
    )


def test_the_run_folder_is_keyed_by_the_whole_recipe(tmp_path):
    a, b = _cfg(), _cfg(model_options={}, label_smoothing=0.1)
    assert recipe_key(a) == recipe_key(_cfg(progress=True, run_dir="elsewhere"))  # not a recipe field
    assert course_run_dir(a, tmp_path) != course_run_dir(b, tmp_path)
    assert course_run_dir(_cfg(epochs=3), tmp_path) != course_run_dir(a, tmp_path)


def test_an_interrupted_run_resumes_and_a_finished_one_is_reused(tmp_path, capsys):
    seen = []
    assert train_or_resume(_cfg(), tmp_path, on_epoch=seen.append, stop_after=1) is None
    run_dir = course_run_dir(_cfg(), tmp_path)
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 1 and len(seen) == 1
    summary = train_or_resume(_cfg(), tmp_path, on_epoch=seen.append)
    out = capsys.readouterr().out
    assert "stopped on purpose after epoch 1" in out and "resuming after epoch 1 of 2" in out
    assert "expected time here: about" in out
    assert summary["epochs"] == 2 and summary["resumed"] is True
    assert [r["epoch"] for r in seen] == [1, 1, 2]  # the resumed call replays epoch 1, then trains epoch 2
    again = []
    assert train_or_resume(_cfg(), tmp_path, on_epoch=again.append) == json.loads(
        (run_dir / "summary.json").read_text()
    )
    assert "reusing it" in capsys.readouterr().out and [r["epoch"] for r in again] == [1, 2]


# ------------------------------------------------------------------------------------------------ display


def test_figures_and_text_are_shown_as_raw_bundles():
    import plotly.graph_objects as go

    bundle, raw = _bundle(go.Figure())
    assert raw and "application/vnd.plotly.v1+json" in bundle
    assert _bundle("hello") == ({"text/plain": "hello"}, True)
    assert _bundle(3) == (3, False)


def test_the_course_reads_depth_on_the_deepest_shipped_se_model(monkeypatch):
    for shipped, expected in [
        (["resnet20", "se_resnet20"], "se_resnet20"),
        (["resnet20", "resnet56", "se_resnet20", "se_resnet56"], "se_resnet56"),
        (["resnet20", "se_resnet20", "se_wrn16_8"], "se_resnet20"),
        (["resnet20", "se_wrn16_8"], "se_wrn16_8"),
    ]:
        monkeypatch.setattr(course_data, "list_pretrained", lambda names=shipped: names)
        assert course_data.deepest_shipped_se() == expected
    monkeypatch.setattr(course_data, "list_pretrained", lambda: ["resnet20"])
    with pytest.raises(FileNotFoundError, match="no trained SE model"):
        course_data.deepest_shipped_se()
