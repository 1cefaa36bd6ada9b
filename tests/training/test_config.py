"""TrainConfig from files and flags: values typed by their field, impossible values refused, resume rules."""

from __future__ import annotations

import json

import pytest

from senet_lib.training.config import TrainConfig, load_config_file, load_run_config


def test_values_take_their_fields_type():
    """YAML and JSON hand over strings and ints where floats or ints are meant ('3', 1, a lone milestone)."""
    cfg = TrainConfig.from_dict(
        {
            "epochs": "3",
            "lr": 1,
            "batch_size": 64.0,
            "nesterov": "false",
            "milestones": 0.5,
            "warmup_epochs": 2,
        }
    )
    assert (cfg.epochs, cfg.lr, cfg.batch_size, cfg.nesterov, cfg.milestones) == (3, 1.0, 64, False, (0.5,))
    assert isinstance(cfg.lr, float) and isinstance(cfg.warmup_epochs, float)
    cfg.validate()


@pytest.mark.parametrize(
    "values, message",
    [
        ({"epochs": "three"}, "epochs must be a whole number; got 'three'"),
        ({"epochs": 2.5}, "epochs must be a whole number; got 2.5"),
        ({"epochs": True}, "epochs must be a whole number; got True"),
        ({"lr": "fast"}, "lr must be a finite number; got 'fast'"),
        ({"lr": "nan"}, "lr must be a finite number; got 'nan'"),
        ({"nesterov": "yes please"}, "nesterov must be true or false"),
        ({"milestones": ["half"]}, r"milestones must be a list of numbers; got \['half'\]"),
        ({"model": 20}, "model must be a str; got 20"),
        ({"model_options": [4]}, "model_options must be a dict"),
    ],
)
def test_values_of_the_wrong_type_are_named(values, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_dict(values)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("weight_decay", -5e-4, "weight_decay must be >= 0"),
        ("momentum", 1.5, "momentum must be in"),
        ("threads", -1, "threads must be >= 0"),
        ("train_subset", -10, "train_subset must be >= 0"),
        ("val_size", 0, "val_size must be >= 1"),
        ("warmup_epochs", -1.0, "warmup_epochs must be >= 0"),
        ("ema_decay", 1.0, r"ema_decay must be in \[0, 1\)"),
    ],
)
def test_values_that_cannot_be_meant_are_refused(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: value}).validate()


def test_config_files_that_do_not_parse_say_which(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: [3\n")
    with pytest.raises(ValueError, match=f"config file {bad} cannot be parsed"):
        load_config_file(bad)
    (tmp_path / "bad.json").write_text("{epochs: 3}")
    with pytest.raises(ValueError, match="cannot be parsed"):
        load_config_file(tmp_path / "bad.json")


def test_a_resume_takes_machine_settings_but_no_recipe_change(tmp_path):
    saved = TrainConfig(epochs=5, lr=0.1, warmup_epochs=1)
    (tmp_path / "config.json").write_text(json.dumps({**saved.to_dict(), "warmup_epochs": 1}))
    cfg = load_run_config(
        tmp_path, progress=False, data_dir="/data", threads=2, epochs=5, lr=0.1, run_dir=str(tmp_path)
    )
    assert (cfg.progress, cfg.data_dir, cfg.threads, cfg.run_dir, cfg.recipe()) == (
        False,
        "/data",
        2,
        str(tmp_path),
        saved.recipe(),
    )
    assert cfg.recipe_id() == saved.recipe_id()  # the same recipe, however many threads run it
    assert TrainConfig(warmup_epochs=1).recipe_id() == TrainConfig(warmup_epochs=1.0).recipe_id()
    with pytest.raises(
        ValueError, match=r"keeps its recipe: .* epochs 5 -> 8, lr 0.1 -> 0.2 would change it"
    ):
        load_run_config(tmp_path, epochs=8, lr=0.2)
    with pytest.raises(ValueError, match=r"model_options \{\} -> \{'reduction': 4\}"):
        load_run_config(tmp_path, model_options={"reduction": 4})
    with pytest.raises(ValueError, match="run_dir -> 'elsewhere'"):
        load_run_config(tmp_path, run_dir="elsewhere")
