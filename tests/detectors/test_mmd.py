"""MMD on CPU: quiet on a clean split, finds a correlation change KS cannot see, clear error without torch."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from driftwarden.config.model import DriftConfig, MmdConfig
from driftwarden.detectors import PreparedReference, check_drift
from driftwarden.detectors.mmd import mmd_test
from driftwarden.errors import OptionalDependencyMissing

CPU = MmdConfig(enabled=True, max_samples=300, permutations=100, device="cpu")


def _correlated(rng: np.random.Generator, rho: float, n: int) -> np.ndarray:
    cov = np.array([[1.0, rho], [rho, 1.0]])
    return rng.multivariate_normal([0.0, 0.0], cov, size=n)


def test_same_distribution_is_not_drift() -> None:
    rng = np.random.default_rng(0)
    result = mmd_test(
        _correlated(rng, 0.8, 1000), _correlated(rng, 0.8, 500), ["a", "b"], CPU, 0.01
    )
    assert result.error is None
    assert result.p_value is not None and result.p_value > 0.01
    assert not result.drifted
    assert result.n_reference == 300 and result.n_current == 300  # subsampled to max_samples
    assert result.details["device"] == "cpu"


def test_correlation_flip_is_found() -> None:
    """Each margin is N(0, 1) on both sides, so per-column tests see nothing."""
    rng = np.random.default_rng(1)
    result = mmd_test(
        _correlated(rng, 0.9, 1000), _correlated(rng, -0.9, 1000), ["a", "b"], CPU, 0.01
    )
    assert result.drifted
    assert result.p_value == pytest.approx(1 / 101)


def test_through_check_drift_with_prepared_reference() -> None:
    rng = np.random.default_rng(2)
    ref = pd.DataFrame(_correlated(rng, 0.9, 2000), columns=["a", "b"])
    cur = pd.DataFrame(_correlated(rng, -0.9, 1000), columns=["a", "b"])
    cfg = DriftConfig(mmd=CPU, alpha=0.05)
    result = check_drift(PreparedReference.from_frame(ref, cfg), cur, cfg)
    assert result.drifted_features == []
    (mmd,) = result.multivariate
    assert mmd.drifted and result.dataset_drift
    assert "mmd.p_value" in result.to_mlflow_metrics()


def test_too_few_permutations_for_alpha_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="permutations"):
        DriftConfig(alpha=0.005, mmd=MmdConfig(enabled=True, permutations=100))


def test_missing_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulated absence: torch is installed here, so hide it the way a failed import looks.
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(OptionalDependencyMissing, match=r"driftwarden\[torch\]"):
        mmd_test(np.zeros((5, 1)), np.ones((5, 1)), ["a"], CPU, 0.01)
    cfg = DriftConfig(mmd=CPU, alpha=0.05)
    frame = pd.DataFrame({"a": np.arange(10.0)})
    with pytest.raises(OptionalDependencyMissing, match="MMD detector"):
        check_drift(PreparedReference.from_frame(frame, cfg), frame, cfg)
