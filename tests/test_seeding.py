"""seed_everything makes python, numpy and torch draws repeatable; importing it is cheap."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

from driftwarden.seeding import seed_everything, torch_installed


def _draws() -> tuple[float, float, list[float]]:
    import torch

    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_same_seed_same_draws_other_seed_other_draws() -> None:
    pytest.importorskip("torch")
    assert seed_everything(7) == ["python", "numpy", "torch"]
    first = _draws()
    seed_everything(7)
    assert _draws() == first
    seed_everything(8)
    assert _draws() != first


def test_seed_must_fit_numpy() -> None:
    with pytest.raises(ValueError, match="seed must be in"):
        seed_everything(-1)


def test_import_does_not_import_torch() -> None:
    code = "import sys, driftwarden.seeding; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_torch_installed_does_not_import_torch() -> None:
    code = (
        "import sys, driftwarden.seeding as s; print(s.torch_installed(), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    installed, imported = out.stdout.split()
    assert imported == "False"
    assert installed == str(torch_installed())
