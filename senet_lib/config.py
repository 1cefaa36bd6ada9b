"""Training configuration: one dataclass, settable from a JSON/YAML file and the command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEDULES = ("step", "cosine", "onecycle")
LOADERS = ("auto", "device", "dataloader")
DEVICES = ("auto", "cpu", "cuda", "mps")
#: Options of the model that the command line sets directly (others go through --model-option).
MODEL_OPTION_FLAGS = {"reduction": float, "placement": str, "squeeze_mode": str, "gate": str, "min_hidden": int}


@dataclass
class TrainConfig:
    """Everything a training run depends on; saved as ``config.json`` in the run directory."""

    model: str = "se_resnet20"
    model_options: dict[str, Any] = field(default_factory=dict)  # reduction, placement, se_stages, ...
    dataset: str = "cifar10"  # cifar10 | cifar100 | synthetic | an ImageFolder dir | its .tar.gz
    data_dir: str = "data"
    download: bool = False
    val_size: int = 5000
    val_source: str = "test"  # CIFAR only: validate on the official test split, or "holdout" val_size train images
    train_subset: int = 0  # a seeded class-balanced subset of N training images (0 = all); for quick runs
    epochs: int = 30
    batch_size: int = 128  # the global batch, shared across torchrun processes
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "onecycle"
    milestones: tuple[float, ...] = (0.5, 0.75)  # step schedule: fractions of training
    lr_decay: float = 0.1  # step schedule: lr *= lr_decay at each milestone (He et al. 0.1, WRN 0.2)
    warmup_epochs: float = 0.0
    label_smoothing: float = 0.0
    seed: int = 0
    device: str = "auto"
    bf16: bool = True  # bf16 autocast; used on CUDA only
    channels_last: bool = False
    compile: bool = False
    loader: str = "auto"  # device: GPU-resident tensors; dataloader: DataLoader + transforms.v2
    num_workers: int = 0
    threads: int = 0  # torch CPU threads (0 = torch's default)
    run_dir: str = ""  # default: runs/<model>-<dataset>-s<seed>
    progress: bool = True

    def validate(self) -> None:
        """Raise ValueError naming the bad field and the allowed values."""
        checks = [
            (self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}; got {self.schedule!r}"),
            (self.loader in LOADERS, f"loader must be one of {LOADERS}; got {self.loader!r}"),
            (self.device.split(":")[0] in DEVICES, f"device must be one of {DEVICES}; got {self.device!r}"),
            (self.epochs >= 1, f"epochs must be >= 1; got {self.epochs}"),
            (self.batch_size >= 1, f"batch_size must be >= 1; got {self.batch_size}"),
            (self.lr > 0, f"lr must be > 0; got {self.lr}"),
            (0 <= self.label_smoothing < 1, f"label_smoothing must be in [0, 1); got {self.label_smoothing}"),
            (all(0 < m < 1 for m in self.milestones), f"milestones are fractions in (0, 1); got {self.milestones}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def resolved_run_dir(self) -> Path:
        if self.run_dir:
            return Path(self.run_dir)
        return Path("runs") / f"{self.model}-{Path(self.dataset).stem}-s{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; valid keys: {sorted(known)}")
        values = dict(values)
        if "milestones" in values:
            values["milestones"] = tuple(values["milestones"])
        return cls(**values)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON or YAML config file into a dict of TrainConfig fields."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        import yaml

        values = yaml.safe_load(text) or {}
    else:
        values = json.loads(text)
    if not isinstance(values, dict):
        raise ValueError(f"config file {path} must hold a mapping of TrainConfig fields")
    return values


def _parse_value(text: str) -> Any:
    """'16' -> 16, '0.5' -> 0.5, 'true' -> True, '[1,2]' -> [1, 2], anything else stays a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_assignment(item: str) -> tuple[str, Any]:
    """'KEY=VALUE' -> (key, parsed value); a clear error when there is no '='."""
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise ValueError(f"expected KEY=VALUE; got {item!r}")
    return key, _parse_value(text)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One --flag per TrainConfig field (plus model-option shortcuts); defaults stay unset."""
    parser.add_argument("--config", help="JSON or YAML file of config fields; flags override it")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR exactly where it stopped")
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "model_options":
            parser.add_argument("--model-option", dest="model_option", action="append", default=[],
                                metavar="KEY=VALUE", help="any model option, e.g. se_stages=[3]")
        elif isinstance(f.default, bool):
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None)
        elif f.name == "milestones":
            parser.add_argument(flag, dest=f.name, type=float, nargs="+", default=None)
        else:
            parser.add_argument(flag, dest=f.name, type=type(f.default), default=None)
    for name, kind in MODEL_OPTION_FLAGS.items():
        parser.add_argument("--" + name.replace("_", "-"), dest="opt_" + name, type=kind, default=None,
                            help=f"model option {name}")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Defaults < config file < command-line flags."""
    values: dict[str, Any] = load_config_file(args.config) if args.config else {}
    for f in dataclasses.fields(TrainConfig):
        given = getattr(args, f.name, None)
        if given is not None and f.name != "model_options":
            values[f.name] = given
    options = dict(values.get("model_options", {}))
    for name in MODEL_OPTION_FLAGS:
        if getattr(args, "opt_" + name) is not None:
            options[name] = getattr(args, "opt_" + name)
    for item in args.model_option:
        key, value = parse_assignment(item)
        options[key] = value
    values["model_options"] = options
    config = TrainConfig.from_dict(values)
    config.validate()
    return config
