"""senet_lib.runtime (device, bf16 or fp32, autocast) and senet_lib.paths (where data lives)."""

from __future__ import annotations

import pytest
import torch

from senet_lib import paths, runtime
from senet_lib.runtime import autocast, cpu_bf16_units, resolve_device, resolve_precision

CPU = torch.device("cpu")


def test_auto_precision_follows_the_cpus_bf16_units(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_bf16_units", lambda: ("AVX512-BF16",))
    assert resolve_precision("auto", CPU) == torch.bfloat16
    monkeypatch.setattr(runtime, "cpu_bf16_units", lambda: ())
    assert resolve_precision("auto", CPU) == torch.float32  # no units: bf16 would be slower, so fp32
    assert resolve_precision("bf16", CPU) == torch.bfloat16  # forced: legal, if slow
    assert resolve_precision("fp32", CPU) == torch.float32
    assert resolve_precision("auto", torch.device("mps")) == torch.float32


def test_bad_precision_and_devices_name_the_choices():
    with pytest.raises(ValueError, match=r"precision must be one of \('auto', 'bf16', 'fp32'\); got 'fp16'"):
        resolve_precision("fp16", CPU)
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="sees no CUDA GPU; use --device cpu or auto"):
            resolve_device("cuda")


def test_cpu_bf16_units_agree_with_the_linux_cpu_flags():
    flags = runtime._cpuinfo_flags()
    if not flags:
        pytest.skip("no /proc/cpuinfo here")
    units = cpu_bf16_units()
    assert ("AVX512-BF16" in units) == ("avx512_bf16" in flags)
    assert ("AMX-BF16" in units) == ("amx_bf16" in flags)


def test_bf16_autocast_keeps_weights_batchnorm_statistics_and_loss_in_fp32():
    from senet_lib.models import create_model

    model = create_model("se_resnet20").to(memory_format=torch.channels_last)
    x = torch.randn(8, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    with autocast(CPU, torch.bfloat16):
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.float(), torch.zeros(8, dtype=torch.long))
    assert logits.dtype == torch.bfloat16 and loss.dtype == torch.float32
    loss.backward()
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in model.parameters())
    bn = model.layer1[0].bn1
    assert bn.running_mean.dtype == torch.float32 and bn.running_var.dtype == torch.float32
    assert torch.isfinite(bn.running_var).all() and not torch.equal(bn.running_mean, torch.zeros(16))
    with autocast(CPU, torch.float32):  # fp32: no autocast at all
        assert model(x).dtype == torch.float32


def test_data_folder_follows_senet_data(monkeypatch, tmp_path):
    monkeypatch.delenv(paths.DATA_ENV, raising=False)
    assert paths.data_dir() == paths.REPO_ROOT / "data"
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path))
    assert paths.data_dir() == tmp_path.resolve()
    assert paths.dataset_search_path()[0] == tmp_path.resolve()


def test_named_dataset_found_through_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path))
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "elsewhere")  # no ../shared beside it
    assert paths.find_named_dataset("cifar10-jpeg") is None
    (tmp_path / "datasets").mkdir()
    archive = tmp_path / "datasets" / "cifar10-jpeg-train.tar.gz"
    archive.write_bytes(b"x")
    assert paths.find_named_dataset("cifar10-jpeg") == archive
    with pytest.raises(ValueError, match="unknown dataset name 'cifar11'; known names: \\['cifar10-jpeg'\\]"):
        paths.find_named_dataset("cifar11")


def test_missing_named_dataset_says_where_it_looked(monkeypatch, tmp_path):
    from senet_lib.data import DatasetNotFoundError, load_splits

    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path))
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "elsewhere")
    with pytest.raises(DatasetNotFoundError, match="set SENET_DATA|point \\$SENET_DATA") as info:
        load_splits("cifar10-jpeg", progress=False)
    assert str(tmp_path) in str(info.value)
