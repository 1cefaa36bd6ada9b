"""The model zoo: parameter counts against the papers, torchvision compatibility, SE placement
(paper Fig. 5 / Table 14), SE stages (Table 13), memory formats, torch.compile and the registry errors."""

import json

import pytest
import torch
import torchvision
from torch import nn

from senet_lib.models import MODEL_REGISTRY, PLACEMENTS, create_model, list_models, model_options
from senet_lib.models.common import PreActBlock, ResidualBlock, SEOptions
from senet_lib.models.resnet import resnet50
from senet_lib.models.resnet_cifar import cifar_resnet, se_resnet20
from senet_lib.se import SEBlock

#: Plain CIFAR ResNets: (parameters the papers report, exact count here with 10 classes).
#: He et al. 2016 Table 6 (option A shortcuts); ResNet-164 from "Identity Mappings" Table 2.
CIFAR_PARAMS = {
    "resnet20": (0.27e6, 269_722),
    "resnet32": (0.46e6, 464_154),
    "resnet44": (0.66e6, 658_586),
    "resnet56": (0.85e6, 853_018),
    "resnet110": (1.7e6, 1_727_962),
    "resnet164": (1.7e6, 1_703_258),
    "wrn16_8": (11.0e6, 10_961_370),  # Zagoruyko & Komodakis 2016, Table 4 / SE paper Table 4
}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count(name: str, **options) -> int:
    """Parameters of a model, built on the meta device (shapes only, no initialisation cost)."""
    with torch.device("meta"):
        return n_params(create_model(name, **options))


def small_input(model: nn.Module, seed: int = 0) -> torch.Tensor:
    """Batch 2 at 32x32 (CIFAR families) or 64x64 (ImageNet families)."""
    size = 32 if model.input_size == 32 else 64
    return torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(seed))


def se_units(model: nn.Module) -> dict[str, SEBlock]:
    return {name: m for name, m in model.named_modules() if isinstance(m, SEBlock)}


# ---------------------------------------------------------------- every model


@pytest.mark.parametrize("name", list_models())
def test_builds_runs_and_rebuilds_from_spec(name):
    torch.manual_seed(0)
    model = create_model(name)
    expected_classes = 10 if model.input_size == 32 else 1000
    assert model.spec["name"] == name and model.spec["num_classes"] == expected_classes
    # layout the excitation module relies on: layer{i}.{j}.se on every unit
    units = [m for m in model.modules() if isinstance(m, ResidualBlock)]
    assert units and all(hasattr(u, "se") for u in units)
    assert set(se_units(model)) == (
        {f"{n}.se" for n, m in model.named_modules() if isinstance(m, ResidualBlock)}
        if name.startswith("se_")
        else set()
    )
    # the spec is plain JSON and rebuilds the same architecture
    with torch.device("meta"):  # shapes only: no initialisation cost
        rebuilt = create_model(**json.loads(json.dumps(model.spec)))
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
        k: v.shape for k, v in model.state_dict().items()
    }

    x = small_input(model)
    out = model(x)
    assert out.shape == (2, expected_classes)
    out.logsumexp(1).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"no gradient for {missing[:5]}"
    # channels_last: forward and backward run, the gradient keeps the format, the numbers agree
    model.zero_grad()
    x_cl = x.to(memory_format=torch.channels_last)
    model_cl = model.to(memory_format=torch.channels_last)
    model_cl(x_cl).logsumexp(1).sum().backward()
    assert model_cl.conv1.weight.grad.is_contiguous(memory_format=torch.channels_last)
    assert all(torch.isfinite(p.grad).all() for p in model_cl.parameters())
    model.eval()  # compare in eval mode: train-mode BN on 2x2 maps amplifies rounding differences
    with torch.no_grad():
        out_cl = model_cl(x_cl)
        out_ref = model_cl.to(memory_format=torch.contiguous_format)(x)
    torch.testing.assert_close(out_cl, out_ref, rtol=1e-4, atol=1e-4 * out_ref.abs().max().item())


def test_default_num_classes_and_override():
    assert create_model("resnet20").fc.out_features == 10
    assert create_model("resnet50").fc.out_features == 1000
    model = create_model("se_resnet50", num_classes=7)
    assert model.fc.out_features == 7 and model.spec["num_classes"] == 7 and model.input_size == 224


# ---------------------------------------------------------------- parameter counts


@pytest.mark.parametrize("name", list(CIFAR_PARAMS))
def test_plain_cifar_parameter_counts(name):
    paper, exact = CIFAR_PARAMS[name]
    measured = count(name)
    print(f"{name}: {measured:,} parameters (paper {paper / 1e6:.2f}M)")
    assert abs(measured - paper) / paper < 0.02, f"{name}: {measured:,} vs paper {paper:,.0f}"
    assert measured == exact


def test_imagenet_parameter_counts_exact():
    assert count("resnet50") == 25_557_032
    assert count("se_resnet50") == 28_088_024  # r = 16, biased FC layers
    # the paper's formula (2/r) sum_s N_s C_s^2, plus the biases C/r + C of each SE block
    counts = {256: 3, 512: 4, 1024: 6, 2048: 3}
    extra = sum(n * (2 * c * (c // 16) + c // 16 + c) for c, n in counts.items())
    assert 25_557_032 + extra == 28_088_024
    with torch.device("meta"):
        assert count("resnext50_32x4d") == n_params(torchvision.models.resnext50_32x4d())


def test_se_options_change_the_count_as_expected():
    plain = count("se_resnet50", se_bias=False)
    counts = {256: 3, 512: 4, 1024: 6, 2048: 3}
    assert plain - 25_557_032 == sum(n * 2 * c * c // 16 for c, n in counts.items())  # (2/r) sum N_s C_s^2
    r8 = create_model("se_resnet20", reduction=8, min_hidden=4)
    assert [m.hidden for m in se_units(r8).values()][:3] == [4, 4, 4]  # 16 / 8 = 2 -> floor of 4


# ---------------------------------------------------------------- torchvision compatibility


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [("resnet50", torchvision.models.resnet50), ("resnext50_32x4d", torchvision.models.resnext50_32x4d)],
)
def test_loads_torchvision_state_dict_strict(ours, theirs):
    torch.manual_seed(0)
    reference = theirs(weights=None).eval()
    model = create_model(ours).eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x))


def test_unknown_weights_name_is_a_clear_error():
    with pytest.raises(ValueError, match="IMAGENET1K_V2"):
        create_model("resnet50", weights="IMAGENET9K")
    with pytest.raises(ValueError, match="num_classes=1000"):
        resnet50(num_classes=10, weights="IMAGENET1K_V1")  # refused before any download


# ---------------------------------------------------------------- SE placement (Fig. 5, Table 14)

#: The last module of each unit's residual function F.
LAST_OF_RESIDUAL = {
    "BasicBlock": "bn2",
    "PreActBottleneck": "conv3",
    "WideBasic": "conv2",
    "Bottleneck": "bn3",
}


def record(modules: dict[str, nn.Module]):
    """Forward hooks storing (input, output) of each named module; returns (store, handles)."""
    store, handles = {}, []
    for key, module in modules.items():
        if module is not None:
            handles.append(
                module.register_forward_hook(lambda m, i, o, key=key: store.__setitem__(key, (i[0], o)))
            )
    return store, handles


#: One network per residual unit kind; the pre-activation bottleneck of ResNet-164 at depth 29.
PLACEMENT_NETS = {
    "se_resnet20": lambda p: create_model("se_resnet20", placement=p),
    "se_preact_bottleneck29": lambda p: cifar_resnet(29, se=SEOptions(placement=p), bottleneck=True),
    "se_wrn16_8": lambda p: create_model("se_wrn16_8", placement=p),
    "se_resnet50": lambda p: create_model("se_resnet50", placement=p),
}


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("net", list(PLACEMENT_NETS))
def test_placement_puts_se_where_the_paper_does(net, placement):
    torch.manual_seed(0)
    model = PLACEMENT_NETS[net](placement).eval()
    units = {"first": model.layer2[0], "second": model.layer2[1]}  # with and without a projection shortcut
    stores, handles = {}, []
    for key, unit in units.items():
        conv_in = unit.conv1.in_channels
        conv_out = (unit.conv3 if hasattr(unit, "conv3") else unit.conv2).out_channels
        assert unit.se.channels == (conv_in if placement in ("pre", "identity") else conv_out)
        last = getattr(unit, LAST_OF_RESIDUAL[type(unit).__name__])
        mods = {
            "unit": unit,
            "se": unit.se,
            "gate": unit.se.gate,
            "conv1": unit.conv1,
            "last": last,
            "down": unit.downsample,
        }
        if isinstance(unit, PreActBlock):
            mods["bn1"] = unit.bn1
        stores[key], hs = record(mods)
        handles += hs
    x = small_input(model)
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()

    close = torch.testing.assert_close
    for key, unit in units.items():
        store = stores[key]
        preact = isinstance(unit, PreActBlock)
        x_in, out = store["unit"]
        se_in, se_out = store["se"]
        merge = (lambda t: t) if preact else torch.relu
        branch_in = torch.relu(store["bn1"][1]) if preact else x_in  # the residual branch input
        shortcut_in = branch_in if (preact and unit.downsample is not None) else x_in

        def shortcut(se_scaled=None, unit=unit, store=store, shortcut_in=shortcut_in):
            if unit.downsample is not None:
                return store["down"][1]
            return shortcut_in if se_scaled is None else se_scaled

        if placement == "standard":  # residual branch output, scaled into the sum with the identity branch
            close(se_in, store["last"][1])
            s = store["gate"][1]  # the excitation (N, C)
            close(se_out, se_in * s[:, :, None, None] + shortcut())
            close(out, merge(se_out))
        elif placement == "pre":  # before the residual unit
            close(se_in, branch_in)
            close(store["conv1"][0], se_out)
            close(out, merge(store["last"][1] + shortcut()))
        elif placement == "identity":  # on the identity connection, parallel to the residual unit
            close(se_in, shortcut_in)
            close(store["conv1"][0], branch_in)
            if unit.downsample is not None:
                close(store["down"][0], se_out)
            close(out, merge(store["last"][1] + shortcut(se_out)))
        else:  # post: after the summation with the identity branch (after ReLU)
            close(se_in, merge(store["last"][1] + shortcut()))
            close(out, se_out)

    model.train()
    model(x).sum().backward()
    assert all(p.grad is not None for se in se_units(model).values() for p in se.parameters())


@pytest.mark.parametrize(
    ("name", "stages", "num_stages"), [("se_resnet20", (3,), 3), ("se_resnet50", (2, 4), 4)]
)
def test_se_stages_limits_se_to_those_stages(name, stages, num_stages):
    model = create_model(name, se_stages=stages)
    for k in range(1, num_stages + 1):
        has_se = [unit.se is not None for unit in getattr(model, f"layer{k}")]
        assert all(has_se) if k in stages else not any(has_se), f"layer{k}: {has_se}"
    assert model.spec["se_stages"] == list(stages)
    assert count(**json.loads(json.dumps(model.spec))) == n_params(model)
    with pytest.raises(ValueError, match=f"1..{num_stages}"):
        create_model(name, se_stages=(num_stages + 1,))


# ---------------------------------------------------------------- registry errors


def test_unknown_model_name_lists_names_and_suggests():
    with pytest.raises(ValueError, match=r"Did you mean 'se_resnet56'\?.*resnet20.*wrn16_8"):
        create_model("se_resnet65")
    assert list_models() == sorted(MODEL_REGISTRY) and "se_resnet50" in list_models()


def test_se_option_on_plain_model_is_refused():
    with pytest.raises(ValueError, match=r"'resnet20' is a plain network.*\['reduction'\].*'se_resnet20'"):
        create_model("resnet20", reduction=8)
    with pytest.raises(ValueError, match=r"\['placement'\].*weights, progress"):
        create_model("resnet50", placement="pre")


def test_unknown_option_names_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['ratio'\].*reduction.*se_stages"):
        create_model("se_resnet20", ratio=8)
    with pytest.raises(TypeError, match=r"\['ratio'\].*reduction"):
        se_resnet20(ratio=8)  # calling a builder directly: Python's TypeError, same message
    assert model_options("resnet20") == ()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"placement": "middle"}, r"placement 'middle'.*standard"),
        ({"gate": "softmax"}, r"gate 'softmax'.*sigmoid"),
        ({"squeeze_mode": "median"}, r"squeeze_mode 'median'.*avg"),
        ({"reduction": 0}, r"reduction ratio r must be > 0"),
        ({"se_stages": 3}, r"se_stages must be a sequence"),
    ],
)
def test_bad_se_option_values(options, message):
    with pytest.raises(ValueError, match=message):
        create_model("se_resnet20", **options)


def test_bad_num_classes():
    with pytest.raises(ValueError, match="positive integer"):
        create_model("resnet20", num_classes=0)


# ---------------------------------------------------------------- torch.compile


def _compiled_matches_eager(model: nn.Module, backend: str) -> None:
    """``torch.compile(model, backend=backend, fullgraph=True)``: captured as one graph (a graph break raises), and
    its output and every parameter's gradient match the eager model's."""
    torch._dynamo.reset()
    x = small_input(model)
    compiled = torch.compile(model, backend=backend, fullgraph=True)
    out_c = compiled(x)
    out_c.logsumexp(1).sum().backward()
    grads_c = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    out_e = model(x)
    out_e.logsumexp(1).sum().backward()
    torch.testing.assert_close(out_c, out_e, rtol=1e-4, atol=1e-4)
    for n, p in model.named_parameters():
        torch.testing.assert_close(grads_c[n], p.grad, rtol=1e-3, atol=1e-4, msg=lambda m, n=n: f"{n}: {m}")


#: Every registered model is compiled whole (issue 2 asks for all). Depth only repeats a family's blocks, so
#: AOTAutograd (backend aot_eager: the joint forward-backward graph that inductor lowers) runs on the shallowest
#: model of each family, plain and SE, and dynamo's capture alone (backend eager) on the deeper ones: aot_eager on
#: all 24 models took 396 s of a 23-minute CI run. ResNet-164's pre-activation bottleneck has its own aot_eager
#: test below (depth 29); a model registered later gets the eager capture until it is listed here.
AOT_EAGER_NAMES = {
    "resnet20", "se_resnet20", "eca_resnet20",  # CIFAR basic blocks, SE and ECA
    "resnet50", "se_resnet50", "resnext50_32x4d", "se_resnext50_32x4d",  # ImageNet bottlenecks, grouped too
    "wrn16_8", "se_wrn16_8",  # wide pre-activation blocks
}  # fmt: skip


def test_every_aot_eager_name_is_a_registered_model():
    unknown = AOT_EAGER_NAMES - set(list_models())
    assert not unknown, f"AOT_EAGER_NAMES lists models the registry does not have: {sorted(unknown)}"


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_compile_whole_model(name):
    torch.manual_seed(0)
    _compiled_matches_eager(create_model(name), "aot_eager" if name in AOT_EAGER_NAMES else "eager")


@pytest.mark.slow
@pytest.mark.parametrize("placement", ["pre", "post", "identity"])
def test_compile_aot_eager_placements(placement):
    torch.manual_seed(0)
    _compiled_matches_eager(create_model("se_resnet20", placement=placement), "aot_eager")


@pytest.mark.slow
def test_compile_aot_eager_preact_bottleneck():
    """The pre-activation bottleneck of ResNet-164 (with SE), at depth 29 to keep the trace short."""
    torch.manual_seed(0)
    _compiled_matches_eager(cifar_resnet(29, se=SEOptions(), bottleneck=True), "aot_eager")


@pytest.mark.slow
def test_compile_inductor_se_resnet20():
    torch.manual_seed(0)
    _compiled_matches_eager(create_model("se_resnet20"), "inductor")
