"""Parameter and FLOP counts, and the paper's extra-parameter formula (complexity.py)."""

import pytest
from torch import nn

from senet_lib.complexity import (
    ModelCost,
    count_flops,
    count_parameters,
    count_se_parameters,
    count_se_weights,
    format_cost_report,
    overhead_report,
    paper_extra_parameters,
    se_stages,
)
from senet_lib.models import create_model
from senet_lib.se import SEBlock


def test_count_parameters_counts_shared_once():
    lin = nn.Linear(3, 4)  # 12 weights + 4 biases
    assert count_parameters(lin) == 16
    assert count_parameters(nn.Sequential(lin, nn.ReLU(), lin)) == 16


def test_count_flops_known_layers():
    # a multiply-add is 2 FLOPs; biases and elementwise ops are not counted
    assert count_flops(nn.Linear(8, 4), input_size=(1, 8)) == 2 * 8 * 4
    conv = nn.Conv2d(3, 4, 3, padding=1)
    assert count_flops(conv, input_size=8) == 2 * (4 * 8 * 8) * (3 * 3 * 3)
    assert (
        count_flops(nn.Sequential(conv, nn.ReLU(), nn.Sigmoid()), input_size=(2, 3, 8, 8))
        == 2 * 2 * 4 * 64 * 27
    )
    se = SEBlock(32, reduction=4)
    assert count_flops(se, input_size=(1, 32, 5, 5)) == 2 * count_se_weights(nn.Sequential(se))


def test_count_flops_needs_an_input_size_and_keeps_mode():
    with pytest.raises(ValueError, match="input_size"):
        count_flops(nn.Linear(2, 2))
    model = create_model("resnet20").train()
    assert count_flops(model) == count_flops(model, input_size=(1, 3, 32, 32))
    assert model.training


def test_paper_formula_se_resnet50():
    model = create_model("se_resnet50")
    assert se_stages(model) == [(3, 256), (4, 512), (6, 1024), (3, 2048)]
    assert paper_extra_parameters(model) == 2_514_944
    assert paper_extra_parameters([(3, 256), (4, 512), (6, 1024), (3, 2048)], reduction=16) == 2_514_944
    assert count_se_weights(model) == 2_514_944  # C/r is an integer everywhere: formula is exact
    # FC biases make up the rest: sum over blocks of C/r + C
    biases = sum(n * (c // 16 + c) for n, c in se_stages(model))
    assert count_se_parameters(model) == 2_514_944 + biases
    plain = create_model("resnet50")
    assert count_parameters(model) - count_parameters(plain) == count_se_parameters(model)


def test_paper_formula_uses_model_reduction_and_shows_floor():
    model = create_model("se_resnet20", reduction=8)
    stages = [(3, 16), (3, 32), (3, 64)]
    assert se_stages(model) == stages
    assert paper_extra_parameters(model) == 2 * 3 * (16**2 + 32**2 + 64**2) / 8
    assert paper_extra_parameters(model, reduction=16) == 2 * 3 * (16**2 + 32**2 + 64**2) / 16
    # r = 32 on 16 channels: C/r = 0.5, but the bottleneck keeps at least one unit -> more than the formula
    narrow = create_model("se_resnet20", reduction=32)
    assert count_se_weights(narrow) == paper_extra_parameters(narrow) + 3 * 2 * 16 * (1 - 0.5)
    with pytest.raises(ValueError, match="reduction"):
        paper_extra_parameters(stages, reduction=0)


def test_overhead_report_se_resnet20():
    report = overhead_report("se_resnet20", num_classes=100, reduction=16)
    se, plain = create_model("se_resnet20", num_classes=100), create_model("resnet20", num_classes=100)
    assert report.plain.name == "resnet20" and report.se.name == "se_resnet20"
    assert report.plain.params == count_parameters(plain) and report.se.params == count_parameters(se)
    assert report.extra_params == count_se_parameters(se)
    assert report.extra_params_pct == pytest.approx(100 * report.extra_params / report.plain.params)
    assert report.extra_flops == 2 * count_se_weights(se)  # the two FC layers, once per image
    assert report.se.paper_extra == 2016 == report.se.se_weights
    assert report.se.input_shape == (1, 3, 32, 32)
    text = format_cost_report(report)
    for expected in [
        "se_resnet20 vs resnet20",
        "100 classes",
        "r = 16",
        f"{report.se.params:,}",
        "2,016",
        f"{report.extra_params_pct:.2f}%",
        "multiply-add",
    ]:
        assert expected in text
    assert overhead_report("se_resnet20", input_size=64).se.flops > report.se.flops


def test_overhead_report_errors_and_single_model():
    with pytest.raises(ValueError, match="plain_model_name"):
        overhead_report("resnet20")
    cost = overhead_report("se_resnet20", plain_model_name="resnet32").plain
    assert isinstance(cost, ModelCost) and cost.name == "resnet32"
    text = format_cost_report(cost)
    assert "resnet32" in text and f"{cost.params:,}" in text and "SE" not in text.split("FLOPs:")[0]
