"""Training configuration: one dataclass, settable from a JSON/YAML file and the command line."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from senet_lib.data import LOADER_KINDS
from senet_lib.runtime import DEVICES, MACHINE_FIELDS, PRECISIONS

SCHEDULES = ("step", "cosine", "onecycle")


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
    se_weight_decay: bool = True  # false: no weight decay on SE blocks' weights (the excitation's FC layers)
    schedule: str = "onecycle"
    milestones: tuple[float, ...] = (0.5, 0.75)  # step schedule: fractions of training
    lr_decay: float = 0.1  # step schedule: lr *= lr_decay at each milestone (He et al. 0.1, WRN 0.2)
    warmup_epochs: float = 0.0
    label_smoothing: float = 0.0
    ema_decay: float = 0.0  # > 0: evaluate and save an exponential moving average of the weights (e.g. 0.999)
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
    run_dir: str = ""  # default: runs/<model>-<dataset>-s<seed>-<recipe id> (see resolved_run_dir)
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
                0 <= self.ema_decay < 1,
                f"ema_decay must be in [0, 1) (0: no average; e.g. 0.999); got {self.ema_decay}",
            ),
            (
                all(0 < m < 1 for m in self.milestones),
                f"milestones are fractions in (0, 1); got {self.milestones}",
            ),
            (self.weight_decay >= 0, f"weight_decay must be >= 0 (0: none); got {self.weight_decay}"),
            (0 <= self.momentum < 1, f"momentum must be in [0, 1); got {self.momentum}"),
            (self.lr_decay > 0, f"lr_decay must be > 0; got {self.lr_decay}"),
            (self.warmup_epochs >= 0, f"warmup_epochs must be >= 0; got {self.warmup_epochs}"),
            (self.val_size >= 1, f"val_size must be >= 1; got {self.val_size}"),
            (self.train_subset >= 0, f"train_subset must be >= 0 (0: all images); got {self.train_subset}"),
            (self.threads >= 0, f"threads must be >= 0 (0: torch's default); got {self.threads}"),
            (self.num_workers >= 0, f"num_workers must be >= 0; got {self.num_workers}"),
            (self.seed >= 0, f"seed must be >= 0; got {self.seed}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def recipe_id(self) -> str:
        """8 hex digits naming the recipe: sha256 of its fields that differ from the defaults (a new field keeps old ids)."""
        defaults = TrainConfig().recipe()
        typed = _typed_defaults()
        recipe = {k: _coerce(k, v, typed[k]) if k in typed else v for k, v in self.recipe().items()}
        changed = {k: v for k, v in recipe.items() if v != defaults[k]}  # warmup_epochs 1 and 1.0: one id
        text = json.dumps(changed, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    def resolved_run_dir(self) -> Path:
        """``run_dir``, else ``runs/<model>-<dataset>-s<seed>-<recipe id>``: two recipes never share a folder."""
        if self.run_dir:
            return Path(self.run_dir)
        dataset = Path(self.dataset).name
        for suffix in (".tar.gz", ".tgz", ".tar"):
            dataset = dataset.removesuffix(suffix)
        return Path("runs") / f"{self.model}-{dataset}-s{self.seed}-{self.recipe_id()}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def recipe(self) -> dict[str, Any]:
        """What a checkpoint's sidecar records: every field but where this machine keeps files and shows progress."""
        return {k: v for k, v in self.to_dict().items() if k not in MACHINE_FIELDS}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """A config from field values (a file, the command line); each value is checked against its field's type."""
        defaults = _typed_defaults()
        known = {*defaults, "model_options"}
        unknown = sorted(set(values) - known - {"bf16"})
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; valid keys: {sorted(known)}")
        values = dict(values)
        if "bf16" in values:  # configs written before `precision` (bf16 autocast was CUDA-only then)
            values.setdefault("precision", "auto" if values.pop("bf16") else "fp32")
        for name, value in values.items():
            values[name] = _coerce(name, value, defaults.get(name, {}))
        return cls(**values)


def _typed_defaults() -> dict[str, Any]:
    """Each field's default but ``model_options``'s (a factory): what :func:`_coerce` types a value by."""
    return {f.name: f.default for f in dataclasses.fields(TrainConfig) if f.name != "model_options"}


def _coerce(name: str, value: Any, default: Any) -> Any:
    """``value`` as the type of the field's ``default`` ('3' -> 3 for an int field); ValueError naming the field."""
    kind = type(default)
    try:
        if kind is bool:
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            if isinstance(value, bool):
                return value
        elif kind is int and not isinstance(value, bool):
            number = float(value) if isinstance(value, (str, float)) else value
            if isinstance(number, int) or (isinstance(number, float) and number.is_integer()):
                return int(number)
        elif kind is float and not isinstance(value, bool):
            number = float(value) if isinstance(value, (str, int, float)) else math.nan
            if math.isfinite(number):
                return number
        elif kind is tuple:  # milestones: one number or a list of them
            items = value if isinstance(value, (list, tuple)) else [value]
            return tuple(_coerce(name, item, 0.0) for item in items)
        elif kind is str and isinstance(value, str):
            return value
        elif kind is dict and isinstance(value, dict):
            return dict(value)
    except ValueError:
        pass
    wanted = {
        bool: "true or false",
        int: "a whole number",
        float: "a finite number",
        tuple: "a list of numbers",
    }
    raise ValueError(f"{name} must be {wanted.get(kind, f'a {kind.__name__}')}; got {value!r}")


def recipe_differences(saved: TrainConfig, given: TrainConfig) -> list[str]:
    """``['lr 0.1 -> 0.2', ...]``: the recipe fields in which ``given`` differs from ``saved``."""
    a, b = saved.recipe(), given.recipe()
    return [f"{k} {a[k]!r} -> {b[k]!r}" for k in a if a[k] != b[k]]


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON or YAML config file into a dict of TrainConfig fields."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    text = path.read_text()
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            try:
                values = yaml.safe_load(text) or {}
            except yaml.YAMLError as err:
                raise ValueError(str(err)) from err
        else:
            values = json.loads(text)
    except ValueError as err:
        raise ValueError(f"config file {path} cannot be parsed: {err}") from err
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


def load_run_config(run_dir: str | Path, /, **given: Any) -> TrainConfig:
    """The config a run in ``run_dir`` was started with (its ``config.json``), for an exact resume.

    ``given`` (e.g. flags of the resume command) may change only where this machine keeps data, how many CPU threads
    it uses and how it shows progress (``data_dir``, ``threads``, ``progress``); a recipe field that differs from
    the saved one is a ValueError naming it.
    """
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{run_dir} holds no config.json, so it is not a training run directory; "
            "pass the folder a run was started in (--run-dir), e.g. runs/se_resnet20-..."
        )
    saved = json.loads(path.read_text())
    saved["run_dir"] = str(run_dir)
    config = TrainConfig.from_dict(saved)
    machine = {k: v for k, v in given.items() if k in MACHINE_FIELDS and k != "run_dir" and v is not None}
    recipe = {k: v for k, v in given.items() if k not in machine and v is not None}
    if "run_dir" in recipe and Path(recipe["run_dir"]).resolve() == Path(run_dir).resolve():
        del recipe["run_dir"]
    if "model_options" in recipe:
        recipe["model_options"] = {**config.model_options, **recipe["model_options"]}
    changed = recipe_differences(config, TrainConfig.from_dict({**config.to_dict(), **recipe}))
    if "run_dir" in recipe:
        changed.append(f"run_dir -> {recipe['run_dir']!r}")
    if changed:
        raise ValueError(
            f"a resumed run keeps its recipe: {run_dir} continues exactly as it was started, and "
            f"{', '.join(changed)} would change it (the learning-rate schedule and the data order depend on "
            "it); drop those flags, or start a new run with them in another --run-dir"
        )
    return dataclasses.replace(config, **machine)
