"""Two-sample Cramér–von Mises test on a prepared reference.

Without ties the statistic is ``scipy.stats.cramervonmises_2samp(reference, current)``'s,
``T = U / (n m N) - (4 n m - 1) / (6 N)`` with ``U = n Σ (r_i - i)² + m Σ (s_j - j)²``
over the pooled ranks, computed in ``O(m log n)`` from binary searches in the sorted
reference (``rank_statistic``), and the p-value follows scipy's ``method='auto'``: exact
(scipy's own routine) when neither sample has more than 20 values, else Anderson's (1962)
normalisation of ``T`` to the one-sample limiting law, evaluated to the last float by
``limiting_laws`` (scipy computes ``1 - cdf`` with a series stopped at terms below 1e-7,
so the two agree to about 1e-7 absolute and only ours resolves smaller p-values).

With ties (method ``asymp-ties``) we deliberately differ from scipy. Its rank formula
with midranks counts the spread of positions inside each tie run as distance between the
samples: on a five-valued column it rejects every null sample at 5% (our simulation,
n = 200 vs m = 100). We use the ECDF form of the same statistic,
``T = n m / N² Σ_z l_z (F(z) - G(z))²`` over the distinct pooled values ``z`` (``l_z``
values each), which equals scipy's ``T`` when there are no ties, and normalise it with
the tie-aware asymptotic mean and variance (``tie_moments``) instead of the untied ones.
With exactly two distinct values (method ``binary``) that ``T`` is ``h_1² h_2`` times
Pearson's chi-square of the 2 x 2 table, whose chi-square(1) law we use as is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2, cramervonmises_2samp

from driftwarden.detectors.limiting_laws import cramer_von_mises_sf
from driftwarden.detectors.runs import (
    Counts,
    count_below,
    has_ties,
    ordered_masses,
    pooled_counts,
)
from driftwarden.detectors.tie_moments import cramer_von_mises_moments

EXACT_MAX = 20  # scipy's 'auto': exact when both samples have at most this many values


@dataclass(frozen=True)
class CvmOutcome:
    """Statistic ``T``, p-value and how it was computed.

    ``method``: ``exact``, ``asymp``, ``asymp-ties``, ``binary`` (see the module
    docstring), or ``constant`` when every value in both samples is the same (no
    evidence: T = 0, p = 1; scipy would report a number from its tie-blind formula).
    """

    statistic: float
    p_value: float
    method: str


def rank_statistic(n: int, m: int, ref_below: np.ndarray) -> float:
    """scipy's ``T`` without ties, from the reference counts below each sorted current value.

    A current value's midrank minus its position is the number of reference values below
    it; a reference value's is the number of current values below it, and current value
    ``j`` (0-based) adds ``(j + 1)² - j² = 2j + 1`` to it for every reference value above.
    """
    j = np.arange(m, dtype=np.float64)
    below = ref_below.astype(np.float64)
    cur_sum = float(np.sum(below**2))
    ref_sum = float(np.sum((2.0 * j + 1.0) * (n - below)))
    u = float(n) * ref_sum + float(m) * cur_sum
    k, total = float(n) * float(m), float(n + m)
    return u / (k * total) - (4.0 * k - 1.0) / (6.0 * total)


def cvm_p_value(
    statistic: float,
    n: int,
    m: int,
    tie_mean: float = 1.0 / 6.0,
    tie_variance: float = 1.0 / 45.0,
) -> float:
    """Anderson's normalisation of ``T`` and the limiting law's upper tail (scipy's asymp).

    With ties, the exact finite-sample mean and variance are scaled by the ratio of the
    tie-aware asymptotic moments (``tie_mean``, ``tie_variance``) to the untied ones.
    """
    total, k = float(n + m), float(n) * float(m)
    et = (1.0 + 1.0 / total) / 6.0 * (6.0 * tie_mean)
    vt = (total + 1.0) * (4.0 * k * total - 3.0 * (float(n) ** 2 + float(m) ** 2) - 2.0 * k)
    vt = vt / (45.0 * total**2 * 4.0 * k) * (45.0 * tie_variance)
    tn = 1.0 / 6.0 + (statistic - et) / math.sqrt(45.0 * vt)
    return cramer_von_mises_sf(tn)


def _ecdf_terms(block: Counts, n: int, m: int) -> float:
    """``Σ l (F - G)²`` over one block, ``F``/``G`` the right-continuous ECDFs at each value."""
    f = (block.ref_below + block.ref_at) / n
    g = (block.cur_below + block.cur_at) / m
    return float(np.sum((block.ref_at + block.cur_at) * (f - g) ** 2))


def cvm_sorted(ref_sorted: np.ndarray, cur_sorted: np.ndarray) -> CvmOutcome:
    """The test on sorted finite samples of at least 2 values each.

    Args:
        ref_sorted: the reference, sorted (prepared once).
        cur_sorted: the current batch, sorted.

    Raises:
        ValueError: a sample with fewer than 2 values (as scipy).
    """
    n, m = int(ref_sorted.size), int(cur_sorted.size)
    if n < 2 or m < 2:
        raise ValueError(f"Cramer-von Mises needs at least 2 values per sample, got {n} and {m}")
    if ref_sorted[0] == ref_sorted[-1] == cur_sorted[0] == cur_sorted[-1]:
        return CvmOutcome(0.0, 1.0, "constant")  # one value in all: no evidence
    ref_below = _untied_ranks(ref_sorted, cur_sorted)
    if ref_below is not None:
        if max(n, m) <= EXACT_MAX:
            result = cramervonmises_2samp(ref_sorted, cur_sorted, method="exact")
            return CvmOutcome(float(result.statistic), float(result.pvalue), "exact")
        statistic = rank_statistic(n, m, ref_below)
        return CvmOutcome(statistic, cvm_p_value(statistic, n, m), "asymp")
    pooled = pooled_counts(ref_sorted, cur_sorted)
    total = n + m
    statistic = (
        float(n)
        * float(m)
        / float(total) ** 2
        * (_ecdf_terms(pooled.reference, n, m) + _ecdf_terms(pooled.current, n, m))
    )
    h, t = ordered_masses(pooled, total)
    if h.size == 2:  # T is h_1² h_2 times Pearson's chi-square of the 2 x 2 table
        pearson = statistic / (h[0] ** 2 * h[1])
        return CvmOutcome(statistic, float(chi2.sf(pearson, 1)), "binary")
    mean, variance = cramer_von_mises_moments(h, t)
    return CvmOutcome(statistic, cvm_p_value(statistic, n, m, mean, variance), "asymp-ties")


def _untied_ranks(ref_sorted: np.ndarray, cur_sorted: np.ndarray) -> np.ndarray | None:
    """Reference values below each current value, or None when the pooled sample has ties."""
    if has_ties(ref_sorted) or has_ties(cur_sorted):
        return None
    left = count_below(ref_sorted, cur_sorted, "left")
    right = count_below(ref_sorted, cur_sorted, "right")
    return left if bool(np.array_equal(left, right)) else None
