"""Training configuration: one dataclass, settable from a JSON/YAML file and the command line."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from senet_lib.data import LOADER_KINDS
from senet_lib.runtime import DEVICES, PRECISIONS

SCHEDULES = ("step", "cosine", "onecycle")
#: Fields that say where this machine keeps things or how it reports, not what is trained: left out of recipes.
MACHINE_FIELDS = ("data_dir", "run_dir", "progress")


@dataclass
class TrainConfig:
    """Everything a training run depends on; saved as ``config.json`` in the run directory."""

    model: str = "se_resnet20"
    model_options: dict[str, Any] = field(default_factory=dict)  # reduction, placement, se_stages, ...
    dataset: str = "cifar10"  # cifar10 | cifar100 | synthetic | an ImageFolder dir | its .tar.gz
    data_dir: str = ""  # default: $SENET_DATA or the repository's data/ (senet_lib.paths.data_dir)
    download: bool = False
    val_size: int = 5000
    val_source: str = (
        "test"  # CIFAR only: validate on the official test split, or "holdout" val_size train images
    )
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
    precision: str = (
        "auto"  # auto: bf16 autocast on GPUs and on CPUs with bf16 units, else fp32; or bf16 / fp32
    )
    channels_last: bool = True  # NHWC activations: faster convolutions on CPU (oneDNN) and GPU (tensor cores)
    compile: bool = False  # torch.compile the training step (a minute of compiling, then faster steps)
    loader: str = "auto"  # device: GPU-resident tensors; dataloader: DataLoader + transforms.v2
    num_workers: int = 0
    threads: int = 0  # torch CPU threads (0 = torch's default)
    run_dir: str = ""  # default: runs/<model>-<dataset>-s<seed>
    progress: bool = True

    def validate(self) -> None:
        """Raise ValueError naming the bad field and the allowed values."""
        checks = [
            (self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}; got {self.schedule!r}"),
            (self.precision in PRECISIONS, f"precision must be one of {PRECISIONS}; got {self.precision!r}"),
            (self.loader in LOADER_KINDS, f"loader must be one of {LOADER_KINDS}; got {self.loader!r}"),
            (self.device.split(":")[0] in DEVICES, f"device must be one of {DEVICES}; got {self.device!r}"),
            (self.epochs >= 1, f"epochs must be >= 1; got {self.epochs}"),
            (self.batch_size >= 1, f"batch_size must be >= 1; got {self.batch_size}"),
            (self.lr > 0, f"lr must be > 0; got {self.lr}"),
            (0 <= self.label_smoothing < 1, f"label_smoothing must be in [0, 1); got {self.label_smoothing}"),
            (
                all(0 < m < 1 for m in self.milestones),
                f"milestones are fractions in (0, 1); got {self.milestones}",
            ),
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

    def recipe(self) -> dict[str, Any]:
        """What a checkpoint's sidecar records: every field but where this machine keeps files and shows progress."""
        return {k: v for k, v in self.to_dict().items() if k not in MACHINE_FIELDS}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known - {"bf16"})
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; valid keys: {sorted(known)}")
        values = dict(values)
        if "bf16" in values:  # configs written before `precision` (bf16 autocast was CUDA-only then)
            values.setdefault("precision", "auto" if values.pop("bf16") else "fp32")
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


def load_run_config(run_dir: str | Path, **changes: Any) -> TrainConfig:
    """The config a run in ``run_dir`` was started with (its ``config.json``), for an exact resume.

    ``changes`` may only touch what does not change the result (``progress``); ``epochs`` must match, since the
    learning-rate schedule depends on it.
    """
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{run_dir} holds no config.json, so it is not a training run directory; "
            "pass the folder a run was started in (--run-dir), e.g. runs/se_resnet20-..."
        )
    saved = json.loads(path.read_text())
    saved["run_dir"] = str(run_dir)
    epochs = changes.pop("epochs", None)
    if epochs is not None and epochs != saved["epochs"]:
        raise ValueError(
            f"a resumed run keeps its recipe: it was configured for {saved['epochs']} epochs and "
            "the learning-rate schedule depends on that; start a new run to train longer"
        )
    saved.update({k: v for k, v in changes.items() if v is not None})
    return TrainConfig.from_dict(saved)
