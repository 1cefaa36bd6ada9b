"""Where a model is wrong: its shipped evaluation (``<checkpoint>.eval.json``, written by ``senet evaluate``).

The confusion matrix (rows: true class, columns: predicted), per-class accuracy, the most confused pairs, and
how far apart two accuracies must be before the difference says more than the noise of one run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["EvalReport", "accuracy_difference", "eval_from_json", "eval_path", "read_eval"]


@dataclass(frozen=True)
class EvalReport:
    """One model on one split: classes (K), confusion (K, K) counts, and the split's name."""

    classes: list[str]
    confusion: np.ndarray  # (K, K) int: rows true class, columns predicted class
    split: str

    @property
    def count(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion)) / self.count

    @property
    def per_class_accuracy(self) -> np.ndarray:
        """(K,): the share of each true class predicted right (the recall of each class)."""
        return np.diag(self.confusion) / np.maximum(self.confusion.sum(1), 1)

    def rates(self) -> np.ndarray:
        """(K, K): each row divided by its class's image count (each row sums to 1)."""
        return self.confusion / np.maximum(self.confusion.sum(1, keepdims=True), 1)

    def most_confused(self, n: int = 5) -> list[tuple[str, str, int, float]]:
        """The ``n`` largest off-diagonal cells: (true class, predicted class, images, share of the true class)."""
        off = self.confusion.astype(float).copy()
        np.fill_diagonal(off, -1)
        order = np.argsort(-off, axis=None, kind="stable")[:n]
        rates = self.rates()
        pairs = []
        for flat in order:
            i, j = divmod(int(flat), len(self.classes))
            if off[i, j] > 0:
                pairs.append((self.classes[i], self.classes[j], int(off[i, j]), float(rates[i, j])))
        return pairs


def eval_from_json(record: Mapping) -> EvalReport:
    """An :class:`EvalReport` from the JSON ``senet evaluate`` writes; ValueError saying what is wrong."""
    try:
        classes = [str(c) for c in record["classes"]]
        confusion = np.asarray(record["confusion"], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(
            f"the evaluation needs 'classes' and a 'confusion' matrix of counts ({err})"
        ) from err
    if confusion.shape != (len(classes), len(classes)) or (confusion < 0).any() or confusion.sum() == 0:
        raise ValueError(
            f"the confusion matrix is {confusion.shape} for {len(classes)} classes; expected a "
            f"({len(classes)}, {len(classes)}) matrix of non-negative counts, rerun `senet evaluate`"
        )
    report = EvalReport(classes, confusion, str(record.get("split", "val")))
    stated = record.get("accuracy")
    if isinstance(stated, (int, float)) and abs(stated - report.accuracy) > 1e-6:
        raise ValueError(
            f"the evaluation states accuracy {stated} but its confusion matrix gives {report.accuracy:.6f}; "
            "the file was edited or mixed up, rerun `senet evaluate`"
        )
    return report


def eval_path(checkpoint: str | Path) -> Path:
    """``data/checkpoints/se_resnet20`` (or either of its files) -> ``data/checkpoints/se_resnet20.eval.json``."""
    path = Path(checkpoint)
    stem = path.name.removesuffix(".safetensors").removesuffix(".json")
    return path.with_name(f"{stem}.eval.json")


def read_eval(checkpoint: str | Path) -> EvalReport | None:
    """The evaluation shipped beside a checkpoint, or None when there is none."""
    path = eval_path(checkpoint)
    if not path.is_file():
        return None
    try:
        return eval_from_json(json.loads(path.read_text()))
    except (json.JSONDecodeError, ValueError) as err:
        raise ValueError(f"{path.name}: {err}") from err


def accuracy_difference(a: EvalReport, b: EvalReport, z: float = 1.96) -> tuple[float, float]:
    """``(difference, half-width)``: accuracy of ``a`` minus ``b`` and its 95% interval's half-width, treating
    the two runs as independent samples (an upper bound on the noise when both saw the same images)."""
    pa, pb = a.accuracy, b.accuracy
    return pa - pb, z * math.sqrt(pa * (1 - pa) / a.count + pb * (1 - pb) / b.count)
