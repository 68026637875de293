"""Two-sample Kolmogorov–Smirnov test against a prepared (sorted) reference.

The statistic is bit-for-bit ``scipy.stats.ks_2samp``'s and the p-value follows scipy's
``method='auto'`` choice (exact when both samples have at most 10,000 values, else the
asymptotic distribution), reusing scipy's own exact routine. Those routines are private to
scipy; should a scipy release move them, the p-value comes from ``scipy.stats.ks_2samp``
itself (same numbers, one more sort of both samples).

Why it is fast: ``sup |F_ref - F_cur|`` is attained at the current batch's points (the value
at a point, or just before it), so only the reference's CDF at those points is needed, and
a coarse-to-fine search needs it at only a few hundred of them. A check therefore costs
about one sort of the current column; the reference is sorted once when prepared.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np


@cache
def _private() -> tuple[Any, Any]:
    """scipy's private routines (kolmogn, _attempt_exact_2kssamp): the same numbers as
    ks_2samp without a second pass; (None, None) in a scipy that moved them, and then
    ks_2samp itself computes the p-value. Imported at the first test, not with this
    module: scipy.stats costs a process ~1.7 s of CPU and ~60 MB (the daemon at rest)."""
    try:
        from scipy.stats._ksstats import kolmogn
        from scipy.stats._stats_py import _attempt_exact_2kssamp
    except ImportError:
        return None, None
    return kolmogn, _attempt_exact_2kssamp


MAX_AUTO_N = 10_000  # scipy's 'auto' threshold for the exact p-value
_TINY_P = 1e-10  # p-values are promised equal to scipy's within this
_SMIRNOV_FAST_N = 5_000  # above this scipy's serial smirnov() sum gets slow


def _smirnov_sf(n: float, x: float) -> float:
    """One-sided ``P(D_n+ >= x)``, the Birnbaum–Tingey sum that ``scipy.special.smirnov`` computes.

    Summed in log space with numpy; agrees with scipy to about 1e-12 and is ~10x faster for
    large ``n``. When ``n (1 - x)`` is an integer (equal sample sizes make it one) the last
    term's base ``1 - x - j/n`` is zero and rounds to a tiny negative number: it is clamped
    to zero, whose term is exactly zero, instead of taking the log of a negative (NaN).
    ``n`` is a whole number (``ks_p_value`` rounds it), so the binomial coefficients' log
    factorials are one table, shared by a check's columns of the same sizes.
    """
    size = int(n)
    last = math.floor(n * (1.0 - x))
    j = np.arange(last + 1, dtype=np.float64)
    base = np.maximum(1.0 - x - j / n, 0.0)
    log_factorial = _log_factorials(size)
    with np.errstate(divide="ignore"):
        log_terms = (
            log_factorial[size]
            - log_factorial[: last + 1]
            - log_factorial[size - last :][::-1]
            + (n - j) * np.log(base)
            + (j - 1.0) * np.log(x + j / n)
        )
    return float(x * np.exp(log_terms).sum())


_CACHED_FACTORIALS_MAX = 1 << 21  # a bigger table (16 MiB) is made per call, not kept


def _log_factorials(n: int) -> np.ndarray:
    """``log(k!)`` for ``k = 0..n``: the very values ``gammaln(k + 1.0)`` gives one by one."""
    return _kept_log_factorials(n) if n <= _CACHED_FACTORIALS_MAX else _log_factorial_table(n)


@lru_cache(maxsize=2)
def _kept_log_factorials(n: int) -> np.ndarray:
    table = _log_factorial_table(n)
    table.flags.writeable = False  # shared by the check's threads
    return table


def _log_factorial_table(n: int) -> np.ndarray:
    from scipy.special import gammaln

    return np.asarray(gammaln(np.arange(n + 1, dtype=np.float64) + 1.0))


@dataclass(frozen=True)
class KsOutcome:
    """Statistic, p-value and the p-value method actually used (``exact`` or ``asymp``)."""

    statistic: float
    p_value: float
    method: str


# Block sizes of the coarse-to-fine search by batch size (up to this many values; see
# search_levels).
_LADDERS: tuple[tuple[float, tuple[int, ...]], ...] = (
    (32_000, (8, 1)),
    (256_000, (64, 8, 1)),
    (1_024_000, (256, 32, 4, 1)),
    (4_096_000, (512, 64, 8, 1)),
    (math.inf, (4096, 512, 64, 8, 1)),
)
_DIRECT_MAX = 8192  # smaller batches: evaluate every point at once
FENCE_STEP = 16
FENCE_FROM = 1 << 16  # references at least this long get a fence


def make_fence(ref_sorted: np.ndarray) -> np.ndarray | None:
    """Every ``FENCE_STEP``-th sorted reference value: a small index that stays in cache.

    None for references small enough to search directly.
    """
    if ref_sorted.size < FENCE_FROM:
        return None
    return np.ascontiguousarray(ref_sorted[::FENCE_STEP])


def _block_bounds(
    ref: np.ndarray,
    cur: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    fence: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bounds on the ECDF differences owned by each block of sorted current positions.

    Integers in units of ``1/(n m)``. A block owns the "just before v" candidate of every
    value whose first copy lies in it and the "at v" candidate of every value whose last
    copy lies in it. Returns (plus_upper, plus_lower, minus_upper, minus_lower) where plus
    is ``F_ref - F_cur`` and minus is ``F_cur - F_ref``; each lower bound is at most some
    real candidate's value. With a fence the reference counts are bracketed to within
    ``FENCE_STEP`` instead of looked up in the (large, rarely cached) reference.
    """
    n, m = ref.size, cur.size
    if fence is None:
        lo = np.searchsorted(ref, cur[starts], side="left")  # #ref < first value
        hi = np.searchsorted(ref, cur[ends - 1], side="right")  # #ref <= last value
    else:
        # fence[t-1] < v gives #ref < v >= K(t-1)+1; fence[t] > v gives #ref <= v <= Kt.
        below = np.searchsorted(fence, cur[starts], side="left")
        lo = np.maximum(FENCE_STEP * (below - 1) + 1, 0)
        upto = np.searchsorted(fence, cur[ends - 1], side="right")
        hi = np.minimum(FENCE_STEP * upto, n)
    return hi * m - starts * n, lo * m - starts * n, ends * n - lo * m, ends * n - hi * m


def _exact(ref: np.ndarray, cur: np.ndarray, positions: np.ndarray) -> tuple[float, float]:
    """scipy's ``max(cdf_ref - cdf_cur)`` and ``-min(...)`` over the candidates of these positions."""
    n, m = ref.size, cur.size
    values = cur[positions]
    if values.size > 1:  # one evaluation per distinct value
        distinct = np.empty(values.size, dtype=bool)
        distinct[0] = True
        np.not_equal(values[1:], values[:-1], out=distinct[1:])
        values = values[distinct]
    before = (
        np.searchsorted(ref, values, side="left") / n
        - np.searchsorted(cur, values, side="left") / m
    )
    at = (
        np.searchsorted(ref, values, side="right") / n
        - np.searchsorted(cur, values, side="right") / m
    )
    return max(float(before.max()), float(at.max())), -float(at.min())


def search_levels(m: int) -> tuple[int, ...]:
    """Block sizes of the coarse-to-fine search over ``m`` sorted current values.

    A level drops only blocks whose own spread (``size / m``) is below the supremum, and an
    undrifted column's supremum shrinks like ``1 / sqrt(m)``; each level also costs about
    0.1 ms of numpy calls besides its per-block work. So the best first size grows with the
    batch: at 200,000 values the former fixed (256, 32, 4, 1) kept every first-level block
    of an undrifted column, and (64, 8, 1) finds the same statistic in 0.8x the time on
    drift_bench's columns. Ladders tried from 10,000 to 2,000,000 values (200,000- and
    1,000,000-value references; undrifted, tied and drifted columns): at each size the one
    chosen here was at least as fast as the fixed one within the run-to-run noise (10%),
    and 0.7x at 2,000,000. The statistic does not depend on the ladder.
    """
    return next(levels for most, levels in _LADDERS if m <= most)


def ks_statistic(
    ref_sorted: np.ndarray, cur_sorted: np.ndarray, fence: np.ndarray | None = None
) -> float:
    """``ks_2samp(ref, cur).statistic`` from sorted finite non-empty samples.

    Coarse-to-fine: blocks of current positions are bounded with two reference lookups
    each; blocks whose upper bound falls below the best lower bound so far cannot hold
    the supremum and are dropped, the rest are split, down to single positions that are
    evaluated exactly with scipy's arithmetic. The sort of ``cur`` dominates the cost.
    """
    m = cur_sorted.size
    if m <= _DIRECT_MAX:
        max_s, min_s = _exact(ref_sorted, cur_sorted, np.arange(m))
        return max(max(max_s, 0.0), min(max(min_s, 0.0), 1.0))
    d_low = 0  # the candidate "both ECDFs are 1 at the largest value" is always there
    levels = search_levels(m)
    starts = np.arange(0, m, levels[0], dtype=np.int64)
    size = levels[0]
    for next_size in (*levels[1:], 0):
        ends = np.minimum(starts + size, m)
        plus_up, plus_low, minus_up, minus_low = _block_bounds(
            ref_sorted, cur_sorted, starts, ends, fence
        )
        d_low = max(d_low, int(plus_low.max()), int(minus_low.max()))
        keep = (plus_up >= d_low) | (minus_up >= d_low)
        # A block inside one run of tied values owns no candidate unless the run starts or
        # ends in it (heavily tied columns would otherwise keep whole runs alive).
        first = np.ones(starts.size, dtype=bool)
        inner = starts > 0
        first[inner] = cur_sorted[starts[inner] - 1] != cur_sorted[starts[inner]]
        last = np.ones(starts.size, dtype=bool)
        inner = ends < m
        last[inner] = cur_sorted[ends[inner]] != cur_sorted[ends[inner] - 1]
        tied = cur_sorted[starts] == cur_sorted[ends - 1]
        keep &= ~tied | first | last
        starts = starts[keep]
        if next_size == 0 or starts.size == 0:
            break
        offsets = np.arange(0, size, next_size, dtype=np.int64)
        starts = (starts[:, None] + offsets[None, :]).ravel()
        starts = starts[starts < m]
        size = next_size
    max_s, min_s = 0.0, 0.0
    if starts.size:
        max_s, min_s = _exact(ref_sorted, cur_sorted, starts)
    return max(max(max_s, 0.0), min(max(min_s, 0.0), 1.0))


def ks_p_value(statistic: float, n1: int, n2: int) -> KsOutcome:
    """scipy's two-sided p-value for ``ks_2samp`` with ``method='auto'``.

    In exact mode scipy reports the statistic rounded to a multiple of ``1/lcm(n1, n2)``;
    the returned statistic does the same so both numbers equal scipy's.
    """
    from scipy.stats import distributions

    kolmogn, _attempt_exact_2kssamp = _private()
    d = statistic
    if _attempt_exact_2kssamp is None or kolmogn is None:
        raise ImportError("scipy's private KS routines are missing; use ks_sorted")
    if max(n1, n2) <= MAX_AUTO_N:
        success, d, prob = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), d, "two-sided")
        if success:
            return KsOutcome(float(d), float(np.clip(prob, 0.0, 1.0)), "exact")
    big, small = sorted([float(n1), float(n2)], reverse=True)
    en = float(np.round(big * small / (big + small)))
    n_d2 = en * d * d
    if 2.0 * math.exp(-2.0 * n_d2) <= _TINY_P:
        # scipy's kstwo.sf can take ~0.3 s here; by the DKW–Massart inequality both its value
        # and the Kolmogorov limit are below _TINY_P, so they agree to within _TINY_P.
        prob = distributions.kstwobign.sf(d * math.sqrt(en))
    elif en > _SMIRNOV_FAST_N and n_d2 >= 2.2:
        # The branch where kstwo.sf returns 2 * smirnov(en, d): same sum, vectorised.
        prob = 2.0 * _smirnov_sf(en, d)
    else:
        prob = kolmogn(en, d, cdf=False)  # what distributions.kstwo.sf(d, en) evaluates
    return KsOutcome(float(d), float(np.clip(prob, 0.0, 1.0)), "asymp")


def _scipy_fallback(ref_sorted: np.ndarray, cur_sorted: np.ndarray, statistic: float) -> KsOutcome:
    """The p-value from ``scipy.stats.ks_2samp`` itself (slower: it sorts both samples again).

    The statistic stays ours, rounded as scipy rounds it when it tries the exact p-value
    (to a multiple of ``1/lcm(n1, n2)``); scipy's exact→asymp switch shows as its
    RuntimeWarning, which decides the reported method.
    """
    from scipy.stats import ks_2samp

    n1, n2 = ref_sorted.size, cur_sorted.size
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        result = ks_2samp(ref_sorted, cur_sorted, method="auto")
    switched = any("Switching to method=asymp" in str(w.message) for w in caught)
    tried_exact = max(n1, n2) <= MAX_AUTO_N
    if tried_exact:
        lcm = (n1 // math.gcd(n1, n2)) * n2
        statistic = int(np.round(statistic * lcm)) / lcm
    method = "exact" if tried_exact and not switched else "asymp"
    return KsOutcome(statistic, float(np.clip(result.pvalue, 0.0, 1.0)), method)


def ks_sorted(
    ref_sorted: np.ndarray, cur_sorted: np.ndarray, fence: np.ndarray | None = None
) -> KsOutcome:
    """The full two-sided test on sorted finite non-empty samples (``fence``: ``make_fence(ref)``)."""
    statistic = ks_statistic(ref_sorted, cur_sorted, fence)
    if None in _private():
        return _scipy_fallback(ref_sorted, cur_sorted, statistic)
    return ks_p_value(statistic, ref_sorted.size, cur_sorted.size)
