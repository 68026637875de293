"""Two-sample Anderson–Darling test (Scholz & Stephens' midrank form) on a prepared reference.

The statistic is ``scipy.stats.anderson_ksamp([reference, current], variant='midrank')``'s:
``T = (A²akN - 1) / σ_N`` with Scholz & Stephens' finite-sample variance ``σ_N²``. It is
built from tie runs and binary searches in the sorted reference (``runs.pooled_counts``),
never from a sorted pooled sample.

The p-value, exactly: ``P(A > 1 + σ_∞ T)`` where ``A`` follows the limiting
Anderson–Darling law (mean 1, sd ``σ_∞ = sqrt(2 (π² - 9) / 3)``) evaluated to the last
float by ``limiting_laws``. scipy reads the same quantity off the Scholz–Stephens table
(7 quantiles of this law, rounded to 3 decimals) by quadratic interpolation in log p and
clips it to [0.001, 0.25]; inside that range the two agree within 4% (the table's
rounding), outside it only ours is defined.

Ties (method ``asymp-ties``): σ_N assumes none, and with ties the statistic's variance is
larger (up to 2 instead of 0.58 for a two-valued column), so scipy's p-value is too small
on discrete columns (8-11% rejections at 5% in our simulations). We divide ``T`` by the
ratio of the tie-aware asymptotic standard deviation (``tie_moments``) to the untied one
before reading the law; ``statistic`` stays scipy's ``T``. With exactly two distinct
values (method ``binary``) ``A²akN`` is ``(N - 1)/N`` times Pearson's chi-square of the
2 x 2 table, whose chi-square(1) law we use as is.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from driftwarden.detectors.limiting_laws import AD_MEAN, AD_SD, anderson_darling_sf
from driftwarden.detectors.runs import Counts, ordered_masses, pooled_counts
from driftwarden.detectors.tie_moments import anderson_darling_variance


@dataclass(frozen=True)
class AdOutcome:
    """Standardized statistic ``T``, p-value and how it was computed.

    ``method``: ``asymp``, ``asymp-ties``, ``binary`` (see the module docstring), or
    ``constant`` when every value in both samples is the same (no evidence: T = 0, p = 1).
    """

    statistic: float
    p_value: float
    method: str


@functools.lru_cache(maxsize=64)
def _harmonic_sums(total: int) -> tuple[float, float]:
    """Scholz & Stephens' ``h`` and ``g`` for ``N`` values (O(N); one per batch size)."""
    hs_cs = (1.0 / np.arange(total - 1, 1, -1)).cumsum()
    h = float(hs_cs[-1]) + 1.0
    g = float((hs_cs / np.arange(2, total)).sum())
    return h, g


def sigma_squared(n: int, m: int) -> float:
    """Variance of ``A²akN`` under the null for samples of ``n`` and ``m`` (k = 2), as scipy."""
    total, k = n + m, 2
    h, g = _harmonic_sums(total)
    big_h = 1.0 / n + 1.0 / m
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * big_h
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * big_h - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * big_h + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    return float(
        (a * total**3 + b * total**2 + c * total + d)
        / ((total - 1.0) * (total - 2.0) * (total - 3.0))
    )


def _terms(block: Counts, n: int, m: int) -> float:
    """``Σ_j l_j/N (N M_aj - m B_aj)² / (B_aj (N - B_aj) - N l_j / 4)`` over one block.

    For two samples both of scipy's per-sample sums have this same square (up to sign), so
    one of them, times ``1/n + 1/m``, is the whole statistic.
    """
    total = float(n + m)
    at = block.ref_at + block.cur_at
    b_mid = block.ref_below + block.cur_below + at / 2.0
    m_mid = block.cur_below + block.cur_at / 2.0
    numerator = at * (total * m_mid - b_mid * m) ** 2
    return float(np.sum(numerator / (b_mid * (total - b_mid) - total * at / 4.0))) / total


def ad_sorted(ref_sorted: np.ndarray, cur_sorted: np.ndarray) -> AdOutcome:
    """The test on sorted finite samples (at least 4 values in all).

    Args:
        ref_sorted: the reference, sorted (prepared once).
        cur_sorted: the current batch, sorted.

    Raises:
        ValueError: an empty sample, or fewer than 4 values in all (no variance).
    """
    n, m = int(ref_sorted.size), int(cur_sorted.size)
    if n == 0 or m == 0:
        raise ValueError("Anderson-Darling needs values in both samples")
    if n + m < 4:
        raise ValueError(f"Anderson-Darling needs at least 4 values in all, got {n + m}")
    if ref_sorted[0] == ref_sorted[-1] == cur_sorted[0] == cur_sorted[-1]:
        return AdOutcome(0.0, 1.0, "constant")
    total = float(n + m)
    pooled = pooled_counts(ref_sorted, cur_sorted)
    inner = _terms(pooled.reference, n, m) + _terms(pooled.current, n, m)
    a2akn = inner * (1.0 / n + 1.0 / m) * (total - 1.0) / total
    sigma2 = sigma_squared(n, m)
    if not sigma2 > 0.0:
        raise ValueError(f"Anderson-Darling variance is not positive for n={n}, m={m}")
    statistic = (a2akn - 1.0) / math.sqrt(sigma2)
    if not pooled.tied:
        return AdOutcome(statistic, anderson_darling_sf(AD_MEAN + AD_SD * statistic), "asymp")
    h, t = ordered_masses(pooled, n + m)
    if h.size == 2:  # A²akN is (N - 1)/N times Pearson's chi-square of the 2 x 2 table
        return AdOutcome(statistic, float(chi2.sf(a2akn * total / (total - 1.0), 1)), "binary")
    inflation = anderson_darling_variance(h, t) / _untied_variance(n + m)
    standardized = statistic / math.sqrt(inflation)
    return AdOutcome(statistic, anderson_darling_sf(AD_MEAN + AD_SD * standardized), "asymp-ties")


@functools.lru_cache(maxsize=16)
def _untied_variance(total: int) -> float:
    """``anderson_darling_variance`` of ``total`` distinct values (cancels its O(1/N) bias)."""
    t = np.arange(1, total + 1, dtype=np.float64) / total
    return anderson_darling_variance(np.full(total, 1.0 / total), t)
