"""senet_lib.checkpoint: safetensors + JSON sidecar round trip, atomic writes, clear errors, training state."""

from __future__ import annotations

import errno
import json
import os
import sys
import types

import pytest
import safetensors.torch
import torch
from torch import nn

from senet_lib.checkpoint import (
    CheckpointError,
    checkpoint_paths,
    load_checkpoint,
    load_model,
    load_training_state,
    read_meta,
    save_checkpoint,
    save_training_state,
    update_meta,
)
from senet_lib.data import DeviceLoader, make_synthetic


class TinyNet(nn.Module):
    def __init__(self, num_classes: int = 10, width: int = 4):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.bn = nn.BatchNorm2d(width)
        self.fc = nn.Linear(width, num_classes)
        self.spec = {"name": "tiny", "num_classes": num_classes, "width": width}

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).mean(dim=(2, 3)))  # (N, 3, H, W) -> (N, K)


@pytest.fixture
def fake_models(monkeypatch):
    """A stand-in ``senet_lib.models`` whose create_model builds TinyNet (the real registry is tested below)."""
    module = types.ModuleType("senet_lib.models")

    def create_model(name, num_classes=None, **options):
        if name != "tiny":
            raise ValueError(f"unknown model {name!r}")
        return TinyNet(num_classes or 10, **options)

    module.create_model = create_model
    monkeypatch.setitem(sys.modules, "senet_lib.models", module)
    return module


def _meta(model: TinyNet) -> dict:
    return {
        "model": model.spec,
        "classes": [f"c{i}" for i in range(10)],
        "normalization": {"mean": (0.5, 0.5, 0.5), "std": (0.25, 0.25, 0.25)},
        "metrics": {"val_acc": 0.5},
        "profile": torch.tensor([[0.25, 0.75]]),
    }


def _trained_tiny(seed: int = 0, **kwargs) -> TinyNet:
    torch.manual_seed(seed)
    model = TinyNet(**kwargs)
    model(torch.randn(4, 3, 8, 8))  # move the BatchNorm running statistics away from their defaults
    return model


def test_round_trip_and_files(tmp_path, fake_models):
    model = _trained_tiny()
    weights = save_checkpoint(tmp_path / "run" / "best", model, _meta(model))
    assert weights == tmp_path / "run" / "best.safetensors"
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "best.json",
        "best.safetensors",
    ]  # no temp files
    state, meta = load_checkpoint(tmp_path / "run" / "best")
    for key, value in model.state_dict().items():
        assert torch.equal(state[key], value)
    assert meta["model"] == model.spec and meta["normalization"]["mean"] == [0.5, 0.5, 0.5]
    assert meta["profile"] == [[0.25, 0.75]] and "checkpoint" not in meta
    assert read_meta(weights) == meta
    sidecar = json.loads((tmp_path / "run" / "best.json").read_text())
    assert sidecar["checkpoint"]["weights_file"] == "best.safetensors"

    rebuilt = load_model(tmp_path / "run" / "best.json")
    assert not rebuilt.training
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(rebuilt(x), model.eval()(x))


def test_paths_from_stem_file_or_directory(tmp_path):
    assert checkpoint_paths(tmp_path / "a.safetensors") == (tmp_path / "a.safetensors", tmp_path / "a.json")
    assert checkpoint_paths(tmp_path / "a.json") == (tmp_path / "a.safetensors", tmp_path / "a.json")
    assert checkpoint_paths(tmp_path) == (tmp_path / "model.safetensors", tmp_path / "model.json")
    model = TinyNet()
    save_checkpoint(tmp_path, model, {"model": model.spec})
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "model.json").is_file()


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    model = _trained_tiny()
    save_checkpoint(tmp_path / "ck", model, {"model": model.spec})
    before = (tmp_path / "ck.safetensors").read_bytes()

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(tmp_path / "ck", _trained_tiny(seed=1), {"model": model.spec})
    assert (tmp_path / "ck.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.json", "ck.safetensors"]


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


@pytest.mark.parametrize("kill_at", [1, 2, 3, 4])
def test_a_kill_anywhere_in_a_save_leaves_a_loadable_pair(tmp_path, monkeypatch, kill_at):
    """Killed at any of the save's file moves (os.replace), the pair loads: the old weights or the new."""
    old, new = _trained_tiny(seed=0), _trained_tiny(seed=1)
    save_checkpoint(tmp_path / "ck", old, {"model": old.spec, "epoch": 1})
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == kill_at:
            raise Killed
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    try:
        save_checkpoint(tmp_path / "ck", new, {"model": new.spec, "epoch": 2})
    except Killed:
        pass
    monkeypatch.setattr(os, "replace", real_replace)
    state, meta = load_checkpoint(tmp_path / "ck")
    expected = old if meta["epoch"] == 1 else new
    assert all(torch.equal(state[k], v) for k, v in expected.state_dict().items())
    save_checkpoint(tmp_path / "ck", new, {"model": new.spec, "epoch": 3})  # the next save settles everything
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.json", "ck.safetensors"]
    state, meta = load_checkpoint(tmp_path / "ck")
    assert meta["epoch"] == 3 and torch.equal(state["fc.weight"], new.fc.weight)


def test_sidecar_edits_that_change_the_model_are_refused(tmp_path):
    """The gate edited from sigmoid to tanh would load the weights into another model: refused, as is a
    sidecar without its checkpoint record (which would switch the weights' sha256 check off)."""
    from senet_lib.models import create_model

    model = create_model("se_resnet20")
    save_checkpoint(tmp_path / "se", model, {"model": model.spec, "classes": [str(i) for i in range(10)]})
    sidecar = json.loads((tmp_path / "se.json").read_text())
    edited = {**sidecar, "model": {**sidecar["model"], "gate": "tanh"}}
    (tmp_path / "se.json").write_text(json.dumps(edited))
    with pytest.raises(CheckpointError, match="were changed after the checkpoint was saved"):
        load_model(tmp_path / "se")
    (tmp_path / "se.json").write_text(json.dumps({**sidecar, "normalization": {"mean": [0.0] * 3}}))
    with pytest.raises(CheckpointError, match="were changed after"):
        read_meta(tmp_path / "se")
    without = {k: v for k, v in sidecar.items() if k != "checkpoint"}
    (tmp_path / "se.json").write_text(json.dumps(without))
    with pytest.raises(CheckpointError, match='no valid "checkpoint" record'):
        load_model(tmp_path / "se")


def test_sidecars_of_format_1_still_load(tmp_path, fake_models):
    """Checkpoints saved before the record hashed the model spec (format 1: weights hash only) stay usable."""
    model = _trained_tiny()
    save_checkpoint(tmp_path / "ck", model, _meta(model))
    sidecar = json.loads((tmp_path / "ck.json").read_text())
    sidecar["checkpoint"] = {k: sidecar["checkpoint"][k] for k in ("weights_file", "weights_sha256")}
    sidecar["checkpoint"]["format_version"] = 1
    (tmp_path / "ck.json").write_text(json.dumps(sidecar))
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(load_model(tmp_path / "ck")(x), model.eval()(x))


def test_update_meta_keeps_the_record_valid(tmp_path, fake_models):
    model = _trained_tiny()
    save_checkpoint(tmp_path / "ck", model, _meta(model))
    update_meta(tmp_path / "ck", {"class_profiles": {"layers": {}}, "classes": [f"k{i}" for i in range(10)]})
    assert read_meta(tmp_path / "ck")["classes"][0] == "k0"
    load_model(tmp_path / "ck")


def test_non_finite_values_are_never_written(tmp_path):
    """Strict JSON: a NaN anywhere in the meta stops the save before any file is written, naming where it is."""
    model = TinyNet()
    with pytest.raises(ValueError, match=r"meta\['metrics'\]\['val_loss'\] is NaN or infinite"):
        save_checkpoint(tmp_path / "ck", model, {"model": model.spec, "metrics": {"val_loss": float("nan")}})
    assert list(tmp_path.iterdir()) == []
    save_checkpoint(tmp_path / "ck", model, {"model": model.spec})
    with pytest.raises(ValueError, match="is NaN or infinite"):
        update_meta(tmp_path / "ck", {"profile": [1.0, float("inf")]})
    json.loads((tmp_path / "ck.json").read_text(), parse_constant=pytest.fail)  # strict: no NaN, no Infinity


def test_meta_must_be_json_able(tmp_path):
    with pytest.raises(TypeError, match="JSON cannot store"):
        save_checkpoint(tmp_path / "ck", TinyNet(), {"model": {"name": "tiny"}, "bad": object()})
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_missing_files(tmp_path):
    with pytest.raises(
        FileNotFoundError, match="no checkpoint at .*nothing: neither nothing.safetensors"
    ) as err:
        load_checkpoint(tmp_path / "nothing")
    assert "by hand" not in str(err.value)
    model = TinyNet()
    save_checkpoint(tmp_path / "ck", model, {"model": model.spec})
    (tmp_path / "ck.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="checkpoint weights .*ck.safetensors not found"):
        load_checkpoint(tmp_path / "ck")
    save_checkpoint(tmp_path / "ck", model, {"model": model.spec})
    (tmp_path / "ck.json").unlink()
    with pytest.raises(FileNotFoundError, match="sidecar .*ck.json is missing") as err:
        load_checkpoint(tmp_path / "ck")
    assert "by hand" not in str(err.value)


def test_sidecar_not_json_or_without_model(tmp_path, fake_models):
    model = TinyNet()
    save_checkpoint(tmp_path / "ck", model, {"model": model.spec})
    (tmp_path / "ck.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path / "ck")
    (tmp_path / "ck.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="JSON object"):
        load_checkpoint(tmp_path / "ck")
    save_checkpoint(tmp_path / "ck", model, {"classes": ["a"]})
    with pytest.raises(CheckpointError, match='no "model" key'):
        load_model(tmp_path / "ck")


def test_weights_not_safetensors(tmp_path):
    model = TinyNet()
    save_checkpoint(tmp_path / "ck", model, {"model": model.spec})
    torch.save(model.state_dict(), tmp_path / "ck.safetensors")  # a pickle under the wrong name
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(tmp_path / "ck")
    (tmp_path / "ck.safetensors").write_bytes(b"\x00" * 5)
    with pytest.raises(CheckpointError, match="never a pickle"):
        load_checkpoint(tmp_path / "ck")


def test_weights_replaced_behind_the_sidecar(tmp_path):
    model = TinyNet()
    save_checkpoint(tmp_path / "ck", model, {"model": model.spec})
    other = {k: v + 1 for k, v in model.state_dict().items()}
    safetensors.torch.save_file(other, str(tmp_path / "ck.safetensors"))
    with pytest.raises(CheckpointError, match="sha256 differs"):
        load_checkpoint(tmp_path / "ck")


def test_weights_that_do_not_fit_the_model(tmp_path, fake_models):
    model = TinyNet(width=4)
    save_checkpoint(tmp_path / "ck", model, {"model": {"name": "tiny", "num_classes": 10, "width": 6}})
    with pytest.raises(CheckpointError, match=r"shape mismatch \(\d+\): conv.weight"):
        load_model(tmp_path / "ck")

    class Renamed(TinyNet):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.head = self.fc
            del self.fc

    save_checkpoint(tmp_path / "ck2", Renamed(), {"model": {"name": "tiny"}})
    with pytest.raises(CheckpointError) as info:
        load_model(tmp_path / "ck2")
    message = str(info.value)
    assert (
        "missing (2): fc.weight, fc.bias" in message
        and "unexpected (2):" in message
        and "head.weight" in message
    )


def test_real_model_round_trip(tmp_path):
    models = pytest.importorskip("senet_lib.models", reason="senet_lib.models is not written yet")
    if not hasattr(models, "create_model"):
        pytest.skip("senet_lib.models has no create_model yet")
    model = models.create_model("se_resnet20", num_classes=10)
    save_checkpoint(tmp_path / "se", model, {"model": model.spec})
    rebuilt = load_model(tmp_path / "se")
    x = torch.randn(2, 3, 32, 32)
    assert torch.allclose(rebuilt(x), model.eval()(x))


def test_training_state_round_trip_with_loader(tmp_path):
    model = TinyNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(2, 3, 8, 8)).sum().backward()
    optimizer.step()
    toy = make_synthetic(train_per_class=5, val_per_class=1)
    loader = DeviceLoader(toy.train, 10, mean=toy.mean, std=toy.std, seed=0)
    iterator = iter(loader)
    next(iterator)
    state = {
        "optimizer": optimizer.state_dict(),
        "loader": loader.state_dict(),
        "epoch": 3,
        "best_acc": 0.25,
        "torch": torch.get_rng_state(),
    }
    path = save_training_state(tmp_path / "latest_state.pt", state)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest_state.pt"]
    back = load_training_state(path)
    assert back["epoch"] == 3 and back["best_acc"] == 0.25
    assert torch.equal(back["loader"]["generator"], state["loader"]["generator"])
    resumed = DeviceLoader(toy.train, 10, mean=toy.mean, std=toy.std, seed=7)
    resumed.load_state_dict(back["loader"])
    assert all(torch.equal(a[0], b[0]) for a, b in zip(resumed, iterator))
    fresh = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    fresh.load_state_dict(back["optimizer"])


def test_a_full_disk_while_saving_training_state_is_said_plainly(tmp_path, monkeypatch):
    """torch's own file writer reports a full disk as `enforce fail at inline_container.cc`; the state is
    serialised in memory and written by Python, so a full disk is an OSError(ENOSPC) and the old file stays."""
    save_training_state(tmp_path / "state.pt", {"epoch": 1})
    real_save = torch.save

    def save(obj, target, *args, **kwargs):
        if isinstance(target, (str, os.PathLike)):  # what torch's zip writer says when the disk fills
            raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 64 vs 0")
        return real_save(obj, target, *args, **kwargs)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", save)
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError) as err:
        save_training_state(tmp_path / "state.pt", {"epoch": 2})
    assert err.value.errno == errno.ENOSPC
    assert load_training_state(tmp_path / "state.pt")["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.pt"]


def test_training_state_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="without --resume"):
        load_training_state(tmp_path / "none.pt")
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_training_state(tmp_path / "bad.pt")
    save_training_state(tmp_path / "code.pt", {"object": TinyNet()})  # a pickled module: refused on load
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_training_state(tmp_path / "code.pt")


def test_checkpoint_files_are_readable_by_others(tmp_path):
    """Shipped checkpoints must open for any user: the files follow the umask, not safetensors' 0600."""
    import os
    import stat

    from torch import nn

    from senet_lib.checkpoint import save_checkpoint

    old = os.umask(0o022)
    try:
        weights = save_checkpoint(tmp_path / "m", nn.Linear(2, 2), {"model": {"name": "x"}})
    finally:
        os.umask(old)
    for path in (weights, weights.with_suffix(".json")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
