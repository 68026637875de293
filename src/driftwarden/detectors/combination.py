"""One p-value for the whole batch from all columns' p-values, valid under dependence.

A per-column correction only fires when one column alone is convincing; several columns
that each moved a little, or one strong column among many, are better judged together.
Both combinations here stay valid (asymptotically exact in the tail) whatever the
dependence between columns, because their statistics are heavy-tailed (stable with index
1), where the largest term dominates the sum:

* ``cauchy`` (ACAT; Liu & Xie 2020): ``T = mean(tan((0.5 - p_i) π))`` is standard Cauchy
  under the null; ``p = 1/2 - arctan(T) / π``. A p-value of exactly 1 would add ``-∞``
  and cancel any evidence, so p-values are capped at ``CAUCHY_MAX_P`` (0.999) first.
* ``harmonic_mean`` (HMP; Wilson 2019): ``1 / mean(1 / p_i)``, read off its Landau
  limit with location ``log L + 0.874`` and scale ``π / 2`` (``L`` columns).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import landau

CAUCHY_MAX_P = 0.999
_TINY_P = 1e-15  # below this tan((0.5 - p) π) is computed as 1 / (π p)
MAX_SOURCES = 10  # likely_sources names at most this many columns


def cauchy_combination(p_values: np.ndarray) -> float:
    """ACAT's combined p-value for equal weights."""
    p = np.minimum(p_values, CAUCHY_MAX_P)
    if np.any(p <= 0.0):
        return 0.0
    with np.errstate(over="ignore"):  # a subnormal p gives an infinite term: p = 0 below
        terms = np.where(p < _TINY_P, 1.0 / (np.pi * p), np.tan((0.5 - p) * np.pi))
        statistic = float(np.mean(terms))
    return float(math.atan2(1.0, statistic) / math.pi)  # = 1/2 - arctan(T)/π, no cancellation


def harmonic_mean_combination(p_values: np.ndarray) -> float:
    """The harmonic mean p-value, calibrated by its Landau limit (one column: its own p)."""
    if p_values.size == 1:
        return float(p_values[0])
    if np.any(p_values <= 0.0):
        return 0.0
    count = p_values.size
    with np.errstate(over="ignore"):  # a subnormal p: an infinite mean, p = 0 below
        inverse_mean = float(np.mean(1.0 / p_values))
    location, scale = math.log(count) + 0.874, math.pi / 2.0
    return float(min(landau.sf((inverse_mean - location) / scale), 1.0))


COMBINATIONS: dict[str, Callable[[np.ndarray], float]] = {
    "cauchy": cauchy_combination,
    "harmonic_mean": harmonic_mean_combination,
}


def combine(p_values: Sequence[float] | np.ndarray, method: str) -> float:
    """The combined p-value of the finite p-values (1.0 when there are none).

    Args:
        p_values: one per tested column.
        method: one of ``COMBINATIONS``.

    Raises:
        ValueError: for an unknown method, listing the valid ones.
    """
    try:
        func = COMBINATIONS[method]
    except KeyError:
        raise ValueError(
            f"unknown combination {method!r}; expected one of {sorted(COMBINATIONS)}"
        ) from None
    p = np.asarray(p_values, dtype=np.float64)
    p = np.clip(p[np.isfinite(p)], 0.0, 1.0)
    if p.size == 0:
        return 1.0
    return func(p)


def likely_sources(p_values: Sequence[float], method: str, alpha: float) -> list[int]:
    """Indices of the columns that carry the combined evidence, strongest first.

    Removes the smallest p-value until what is left no longer combines below ``alpha``
    (at most ``MAX_SOURCES``): one strong column gives itself; several weak ones give all
    of them. Empty when the combination does not reach ``alpha`` to begin with.
    """
    p = np.asarray(p_values, dtype=np.float64)
    order = [int(i) for i in np.argsort(p, kind="stable")]
    sources: list[int] = []
    while order and len(sources) < MAX_SOURCES and combine(p[order], method) < alpha:
        sources.append(order.pop(0))
    return sources
