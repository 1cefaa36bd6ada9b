"""senet_lib.analysis.evaluation (the shipped evaluation JSON), findings (the paper's findings, computed) and
their figures."""

import json

import numpy as np
import pytest

from senet_lib.analysis.evaluation import accuracy_difference, eval_from_json, eval_path, read_eval
from senet_lib.analysis.figures import confusion_heatmap, per_class_accuracy_bars
from senet_lib.analysis.findings import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    accuracy_finding,
    cost_finding,
    depth_finding,
    summary,
)
from senet_lib.paths import checkpoints_dir

CLASSES = ["cat", "dog", "ship"]


def report(confusion, split="val"):
    return eval_from_json({"classes": CLASSES, "confusion": confusion, "split": split})


def test_the_shipped_evaluation_reads_back_its_own_numbers():
    path = checkpoints_dir() / "se_resnet20"
    record = json.loads(eval_path(path).read_text())
    found = read_eval(path)
    assert found.count == record["count"] == 5000
    assert found.accuracy == pytest.approx(record["accuracy"])
    np.testing.assert_allclose(found.per_class_accuracy, record["per_class_accuracy"])
    assert read_eval(checkpoints_dir() / "no_such_model") is None


def test_most_confused_pairs_and_rates():
    r = report([[8, 2, 0], [5, 5, 0], [0, 1, 9]])
    assert r.accuracy == pytest.approx(22 / 30)
    assert r.most_confused(2) == [("dog", "cat", 5, 0.5), ("cat", "dog", 2, 0.2)]
    np.testing.assert_allclose(r.rates().sum(1), 1.0)


def test_a_malformed_evaluation_says_what_is_wrong():
    with pytest.raises(ValueError, match="'confusion'"):
        eval_from_json({"classes": CLASSES})
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        eval_from_json({"classes": CLASSES, "confusion": [[1, 2], [3, 4]]})
    with pytest.raises(ValueError, match="states accuracy 0.9"):
        eval_from_json({"classes": CLASSES, "confusion": np.eye(3).tolist(), "accuracy": 0.9})


def test_accuracy_finding_needs_a_difference_beyond_the_noise():
    se, plain = (
        report([[900, 100, 0], [0, 1000, 0], [0, 0, 1000]]),
        report([[800, 200, 0], [0, 1000, 0], [0, 0, 900 + 100 * 0]]),
    )
    diff, half = accuracy_difference(se, plain)
    assert diff > half > 0
    assert accuracy_finding(se, plain, "se", "plain").verdict == REPRODUCED
    assert accuracy_finding(plain, se, "plain", "se").verdict == NOT_REPRODUCED
    same = accuracy_finding(se, se, "se", "se")
    assert same.verdict == INCONCLUSIVE and "+0.00 points" in same.evidence and "6.37%" in same.evidence


def test_depth_and_cost_findings():
    rising = depth_finding({"SE_2_1": 0.1, "SE_2_2": 0.2, "SE_3_1": 0.3, "SE_4_1": 0.5, "SE_4_2": 0.4})
    assert rising.verdict == REPRODUCED and "0.15 in the first stage (SE_2_1–SE_2_2)" in rising.evidence
    assert depth_finding({"a": 0.5, "b": 0.4, "c": 0.1}).verdict == NOT_REPRODUCED  # no stages: thirds
    # near-constant gates are left out: here SE_4_2's 0.4 would otherwise pull the last stage down
    kept = depth_finding(
        {"SE_2_1": 0.5, "SE_2_2": 0.1, "SE_4_1": 0.2, "SE_4_2": 0.9}, near_constant=["SE_2_1"]
    )
    assert kept.verdict == REPRODUCED and "0.10 in the first stage (SE_2_2)" in kept.evidence
    assert "Left out: 1 of the 4 SE layers" in kept.evidence and "(SE_2_1)" in kept.evidence
    undecided = depth_finding({"SE_2_1": 0.1, "SE_4_1": 0.9}, near_constant=["SE_4_1"])
    assert undecided.verdict == INCONCLUSIVE and "last stage" in undecided.evidence
    assert cost_finding(105, 100, "se", "plain").verdict == REPRODUCED
    assert cost_finding(150, 100, "se", "plain").verdict == NOT_REPRODUCED
    text = summary([rising, depth_finding({"a": 0.5, "b": 0.1})])
    assert text.startswith("This checkpoint reproduces 1 of the 2 paper findings checked here")


def test_confusion_and_per_class_figures():
    fig = confusion_heatmap([[8, 2, 0], [5, 5, 0], [0, 1, 9]], CLASSES)
    np.testing.assert_allclose(np.asarray(fig.data[0].z)[1], [0.5, 0.5, 0.0])
    bars = per_class_accuracy_bars({"SE": [0.8, 0.5, 0.9], "plain": [0.7, 0.6, 0.9]}, CLASSES)
    assert [t.name for t in bars.data] == ["SE", "plain"]
    with pytest.raises(ValueError, match="classes"):
        confusion_heatmap([[1, 0], [0, 1]], CLASSES)


def test_check_checkpoint_on_the_shipped_pair():
    from senet_lib.analysis.findings import check_checkpoint
    from senet_lib.analysis.inspection import LoadedModel

    se = LoadedModel.from_checkpoint(checkpoints_dir() / "se_resnet20")
    plain = LoadedModel.from_checkpoint(checkpoints_dir() / "resnet20")
    se_eval, plain_eval = (
        read_eval(checkpoints_dir() / "se_resnet20"),
        read_eval(checkpoints_dir() / "resnet20"),
    )
    findings = check_checkpoint(se, plain, se_eval, plain_eval)
    assert [f.claim for f in findings] == [
        "SE adds few parameters",
        "SE improves accuracy over the same network without SE",
        "Excitations grow class-specific with depth",
    ]
    diff, _ = accuracy_difference(se_eval, plain_eval)
    assert f"{100 * diff:+.2f} points" in findings[1].evidence  # computed from the shipped evaluations
    assert [f.claim for f in check_checkpoint(se)] == ["Excitations grow class-specific with depth"]
    assert check_checkpoint(plain) == []
