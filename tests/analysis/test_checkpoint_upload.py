"""Uploaded checkpoints (safetensors + JSON sidecar from bytes): the good pair loads; anything that is not what
it claims -- random bytes, a pickle renamed, a mismatched or edited sidecar -- gives a clear CheckpointError,
and no file is ever unpickled."""

import pytest
import torch

from senet_lib.analysis.inspection import LoadedModel, inspect
from senet_lib.checkpoint import CheckpointError, load_model_from_bytes
from tests.upload_cases import CHECKPOINT_CASES, CLASSES, checkpoint_pairs, edited


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    return checkpoint_pairs(tmp_path_factory.mktemp("ckpt"))


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail the test if anything calls torch.load or pickle.load while it runs."""
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("an uploaded checkpoint was unpickled")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)


def test_a_good_upload_loads_and_predicts(pairs, no_unpickling):
    weights, sidecar = pairs["se"]
    model, meta = load_model_from_bytes(weights, sidecar, "mine.safetensors")
    assert meta["classes"] == CLASSES and "checkpoint" not in meta
    loaded = LoadedModel.from_bytes(weights, sidecar, "mine.safetensors")
    assert loaded.label == "se_resnet20 (uploaded mine.safetensors)" and len(loaded.se_layers) == 9
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(inspect(loaded, x).logits, model(x)[0])  # the same weights in both loads


@pytest.mark.parametrize("case", list(CHECKPOINT_CASES))
def test_a_checkpoint_that_is_not_what_it_claims(case, pairs, no_unpickling):
    make, says = CHECKPOINT_CASES[case]
    weights, sidecar = make(pairs)
    with pytest.raises(CheckpointError) as err:
        LoadedModel.from_bytes(weights, sidecar, "yours.safetensors")
    message = str(err.value)
    assert says in message
    assert "yours" in message  # names the user's file ...
    assert "senet-upload-" not in message  # ... not the temporary folder


def test_missing_classes_in_the_sidecar(pairs):
    weights, sidecar = pairs["se"]
    with pytest.raises(CheckpointError, match="classes"):
        LoadedModel.from_bytes(weights, edited(sidecar, lambda r: r.pop("classes")), "upload.safetensors")
