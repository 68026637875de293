"""Multiple-testing correction across features.

Testing 30 columns at alpha = 0.05 raises a false alarm on most clean batches; these
adjust the p-values so the family as a whole keeps its error rate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _none(p: np.ndarray) -> np.ndarray:
    return p.copy()


def _bonferroni(p: np.ndarray) -> np.ndarray:
    return np.minimum(p * p.size, 1.0)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down (as statsmodels' ``multipletests(method='holm')``)."""
    n = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate((n - np.arange(n)) * p[order])
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg (as ``scipy.stats.false_discovery_control(method='bh')``)."""
    n = p.size
    order = np.argsort(p, kind="stable")
    scaled = p[order] * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out


CORRECTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": _none,
    "bonferroni": _bonferroni,
    "holm": _holm,
    "bh": _bh,
}


def correct(p_values: list[float] | np.ndarray, method: str) -> np.ndarray:
    """Adjusted p-values in the input order.

    Args:
        p_values: one p-value per tested feature.
        method: one of ``CORRECTIONS`` (none, bonferroni, holm, bh).

    Raises:
        ValueError: for an unknown method, listing the valid ones.
    """
    try:
        func = CORRECTIONS[method]
    except KeyError:
        raise ValueError(
            f"unknown correction {method!r}; expected one of {sorted(CORRECTIONS)}"
        ) from None
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return p
    return func(p)
