"""ECA (Wang et al., CVPR 2020): adaptive kernel size, k parameters, the SE interface, eca_resnet20/56."""

import pytest
import torch

from senet_lib.analysis.excitation import override_gates, record_excitations
from senet_lib.complexity import count_parameters, count_se_parameters
from senet_lib.eca import ECABlock, eca_kernel_size
from senet_lib.models import create_model, model_options
from senet_lib.se_layers import find_se_layers, gate_module


@pytest.mark.parametrize(
    ("channels", "k"), [(16, 3), (32, 3), (64, 3), (128, 5), (256, 5), (512, 5), (2048, 7)]
)
def test_adaptive_kernel_size_follows_the_paper(channels, k):
    assert eca_kernel_size(channels) == k


def test_block_has_k_parameters_and_no_bottleneck():
    block = ECABlock(64)
    assert block.kernel_size == 3 and sum(p.numel() for p in block.parameters()) == 3
    assert sum(p.numel() for p in ECABlock(256).parameters()) == 5
    assert sum(p.numel() for p in ECABlock(64, kernel_size=7).parameters()) == 7
    with pytest.raises(ValueError, match="odd"):
        ECABlock(64, kernel_size=4)


def test_forward_is_squeeze_conv1d_sigmoid_scale():
    torch.manual_seed(0)
    block = ECABlock(8, kernel_size=3)
    u = torch.randn(2, 8, 5, 7)
    z = u.mean(dim=(2, 3))  # (N, C)
    w = block.conv.weight.view(3)
    padded = torch.nn.functional.pad(z, (1, 1))  # zero padding at both ends of the channel axis
    # channel c sees channels c-1, c and c+1
    logits = w[0] * padded[:, :-2] + w[1] * padded[:, 1:-1] + w[2] * padded[:, 2:]
    want = u * torch.sigmoid(logits)[:, :, None, None]
    torch.testing.assert_close(block(u), want)
    residual = torch.randn_like(u)
    torch.testing.assert_close(block(u, residual), want + residual)
    with pytest.raises(ValueError, match=r"\(N, 8, H, W\)"):
        block(torch.randn(2, 4, 5, 5))


def test_eca_resnet20_is_resnet20_plus_27_weights():
    model = create_model("eca_resnet20")
    assert count_parameters(model) - count_parameters(create_model("resnet20")) == 9 * 3
    assert count_se_parameters(model) == 27
    assert model_options("eca_resnet20") == ("kernel_size", "gamma", "b")
    assert create_model("eca_resnet56", kernel_size=5).layer3[0].se.kernel_size == 5


def test_excitation_tools_find_and_record_eca_gates():
    model = create_model("eca_resnet20").eval()
    layers = find_se_layers(model)
    assert list(layers)[:2] == ["SE_2_1", "SE_2_2"] and len(layers) == 9
    assert isinstance(gate_module(layers["SE_4_3"]), torch.nn.Sigmoid)
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad(), record_excitations(model) as rec:
        model(x)
    assert rec["SE_4_3"].shape == (3, 64) and ((rec["SE_4_3"] > 0) & (rec["SE_4_3"] < 1)).all()
    with torch.no_grad(), override_gates(model, {name: 1.0 for name in layers}):
        ones = model(x)
    plain = create_model("resnet20").eval()
    plain.load_state_dict({k: v for k, v in model.state_dict().items() if ".se." not in k})
    with torch.no_grad():
        torch.testing.assert_close(ones, plain(x))  # gates = 1: ECA-ResNet-20 is ResNet-20
