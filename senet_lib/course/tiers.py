"""The course's three tiers and the first cell of every notebook: ``course = setup("05", TIER)``.

* ``quick``: what CI runs; seconds per notebook on a CPU, tiny data, numbers that mean nothing.
* ``laptop``: the default without a GPU; every notebook top to bottom in at most 10 minutes on a 2-core CPU, with
  short runs on the CPU fast path and the shipped (precomputed) results for anything longer.
* ``full``: the default with a GPU; the paper-scale runs.

The tier is the notebook's ``TIER`` variable when set, else ``$SENET_TIER`` (``SENET_QUICK=1`` still means quick),
else ``full`` where CUDA is available and ``laptop`` where it is not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from senet_lib.paths import REPO_ROOT

__all__ = ["EXPECTED_SECONDS", "TIERS", "TIER_ENV", "Course", "expected_time", "resolve_tier", "setup"]

TIERS = ("quick", "laptop", "full")
TIER_ENV = "SENET_TIER"
TIER_HELP = {
    "quick": "CI: tiny data, a few seconds, numbers that mean nothing",
    "laptop": "no GPU needed: short CPU runs plus the shipped precomputed results",
    "full": "paper-scale runs, meant for a GPU",
}
#: Measured wall time (seconds) of each notebook, top to bottom, per tier, rounded up to 5 s: quick and laptop on this
#: project's 2-core CPU with nothing else running (``python -m senet_lib course --tier quick|laptop`` prints them,
#: 2026-11-24; 06 again on 2026-12-06, on se_resnet56); full is not measured (no GPU run yet).
EXPECTED_SECONDS: dict[str, dict[str, float]] = {
    "01": {"quick": 10, "laptop": 10},
    "02": {"quick": 10, "laptop": 10},
    "03": {"quick": 10, "laptop": 10},
    "04": {"quick": 15, "laptop": 15},
    "05": {"quick": 15, "laptop": 250},
    "06": {"quick": 25, "laptop": 120},
    "07": {"quick": 15, "laptop": 170},
    "08": {"quick": 10, "laptop": 10},
    "09": {"quick": 15, "laptop": 135},
}


def resolve_tier(tier: str | None = None) -> str:
    """The tier to run: ``tier`` if given, else ``$SENET_TIER`` / ``SENET_QUICK=1``, else by hardware."""
    if tier is None:
        tier = os.environ.get(TIER_ENV, "").strip().lower() or None
    if tier is None and os.environ.get("SENET_QUICK") == "1":
        tier = "quick"
    if tier is None:
        tier = "full" if torch.cuda.is_available() else "laptop"
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; choose one of {TIERS} (or None to let the machine decide)")
    return tier


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def expected_time(notebook: str, tier: str) -> str:
    """The expected run time of a notebook in a tier, in words (measured, or "not measured")."""
    seconds = EXPECTED_SECONDS.get(notebook, {}).get(tier)
    if seconds is None:
        return "not measured for this tier yet (hours of training on a GPU for notebooks 5 and 7)"
    return f"about {_minutes(seconds)} (measured on a 2-core CPU)"


@dataclass(frozen=True)
class Course:
    """What a notebook needs to know about its run: the tier, the repository root, its own number."""

    notebook: str
    tier: str
    root: Path = REPO_ROOT

    @property
    def quick(self) -> bool:
        return self.tier == "quick"

    def pick(self, quick: Any, laptop: Any, full: Any) -> Any:
        """The value for this tier, e.g. ``course.pick(quick=500, laptop=5000, full=5000)``."""
        return {"quick": quick, "laptop": laptop, "full": full}[self.tier]


def setup(notebook: str, tier: str | None = None, seed: int = 0) -> Course:
    """The first cell of every notebook: choose and print the tier, seed torch, set plotly's renderers."""
    import plotly.io as pio

    # JupyterLab draws the plotly mimetype; the HTML copies (`make notebooks`) use the embedded plotly.js version
    pio.renderers.default = "plotly_mimetype+notebook"
    tier = resolve_tier(tier)
    torch.manual_seed(seed)
    course = Course(notebook, tier)
    print(f"tier: {tier} ({TIER_HELP[tier]})")
    print(f"expected run time of this notebook: {expected_time(notebook, tier)}")
    others = ", ".join(t for t in TIERS if t != tier)
    print(f"(to change it, set TIER = one of {others} in this cell, or {TIER_ENV} before starting Jupyter)")
    return course
