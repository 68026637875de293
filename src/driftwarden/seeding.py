"""Seed every random number generator a training run touches, for reproducible runs.

torch is an optional extra: it is imported only inside :func:`seed_everything` and only
when it is installed, so importing this module stays cheap.
"""

from __future__ import annotations

import importlib.util
import os
import random

import numpy as np


def torch_installed() -> bool:
    """True when torch can be imported (without importing it)."""
    return importlib.util.find_spec("torch") is not None


def seed_everything(seed: int, deterministic: bool = False) -> list[str]:
    """Seed python's ``random``, numpy's global generator and, when installed, torch (CPU + CUDA).

    Args:
        seed: the seed; must fit in 32 bits (numpy's limit).
        deterministic: also make torch refuse nondeterministic kernels
            (``torch.use_deterministic_algorithms(True, warn_only=True)`` and the cuBLAS
            workspace setting it needs). Off by default because it is process-wide and
            slows some GPU ops; cuDNN's autotuner is switched off either way.

    Returns:
        the names of the generators that were seeded, e.g. ``["python", "numpy", "torch"]``.
    """
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    # Affects child processes only (hash randomisation is fixed at interpreter start).
    os.environ["PYTHONHASHSEED"] = str(seed)
    seeded = ["python", "numpy"]
    if torch_installed():
        _seed_torch(seed, deterministic)
        seeded.append("torch")
    return seeded


def _seed_torch(seed: int, deterministic: bool) -> None:
    import torch

    torch.manual_seed(seed)  # also seeds every CUDA device
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
