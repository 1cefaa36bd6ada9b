"""Fixtures every test folder shares: the repository, the shipped models, the real and the tiny datasets.

Test folders mirror the package: ``core/`` (se, models, complexity, checkpoint, runtime, layout), ``data/``,
``training/``, ``analysis/``, ``course/``, ``cli/``, ``app/``.
"""

from __future__ import annotations

import os

# Idle OpenMP threads sleep instead of spinning. libgomp (torch's OpenMP) reads this when torch loads, so it is set
# before anything imports torch; notebook kernels, the Streamlit server and torchrun inherit it. On a 2-core machine
# with one core busy, spinning threads made torch's 2-thread work wait on each other: quick-tier notebook 09 took
# 140 s against 38 s with this (34 s and 36 s with both cores idle; AMD EPYC Zen 3, 2026-12-07).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# `make test` runs the tests in parallel (pytest-xdist, one worker a core): each worker's torch, and the notebook
# kernels, Streamlit servers and torchrun processes it starts, get an equal share of the cores instead of each taking
# all of them (OpenMP threads that outnumber the cores wait on each other; inductor's compile workers too).
if (workers := int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))) > 1:
    share = str(max(1, (os.cpu_count() or 1) // workers))
    os.environ.setdefault("OMP_NUM_THREADS", share)
    os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", share)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from senet_lib.paths import REPO_ROOT, checkpoints_dir, find_named_dataset, samples_dir  # noqa: E402


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (the folder that holds ``senet_lib/``)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shipped_se_checkpoint() -> Path:
    """The stem of the shipped SE-ResNet-20 checkpoint (``data/checkpoints/se_resnet20``)."""
    return checkpoints_dir() / "se_resnet20"


@pytest.fixture(scope="session")
def samples() -> Path:
    """The shipped sample images (held-out CIFAR-10 validation images, 3 per class)."""
    return samples_dir()


@pytest.fixture(scope="session")
def cifar10_jpeg() -> Path:
    """The real CIFAR-10 training split (JPEG archive), found as every command finds it; skips when absent."""
    path = find_named_dataset("cifar10-jpeg")
    if path is None:
        pytest.skip(
            "the CIFAR-10 JPEG archive is not on senet_lib.paths.dataset_search_path() "
            "(see ../shared/datasets/README.md, or set SENET_DATA)"
        )
    return path


@pytest.fixture(scope="session")
def cifar10_jpeg_cache(tmp_path_factory) -> Path:
    """A data folder the tests that evaluate on the real archive share: its 50,000 JPEGs are decoded once a run."""
    return tmp_path_factory.mktemp("cifar10-jpeg-cache")


@pytest.fixture(scope="session")
def synthetic_splits():
    """The tiny generated dataset (10 classes, 32x32) the training tests use."""
    from senet_lib.data import load_splits

    return load_splits("synthetic", progress=False)
