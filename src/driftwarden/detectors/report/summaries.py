"""What a plot needs from the data, computed once per plotted feature and no more.

The reference side comes from a ``PreparedReference`` when one is at hand (its numeric
columns are already sorted, so quantiles and histogram counts cost a few binary searches)
or from the reference frame. Categories are counted exactly as the chi-square test counts
them (``category_counts``), so the bars show the categories the test saw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd

from driftwarden.detectors.base import category_counts, clean_numeric
from driftwarden.detectors.prepared import CategoricalColumn, NumericColumn, PreparedReference

QUANTILES = (("5%", 0.05), ("25%", 0.25), ("median", 0.5), ("75%", 0.75), ("95%", 0.95))
AXIS_QUANTILES = (0.005, 0.995)  # the x axis spans these quantiles of both samples
BINS = 40
MAX_INTEGER_BINS = 60  # integer-valued columns spanning at most this get one bin per value
TOP_CATEGORIES = 10  # named bars per categorical feature, the rest pooled
TOP_BY_SHARE = 6  # of which the largest; the others are the largest movers
_HUGE = 1e300  # beyond this, spans overflow: work in units of the largest magnitude

ReferenceSource: TypeAlias = pd.DataFrame | PreparedReference


@dataclass
class Sample:
    """One side's finite values, sorted, and how many were dropped.

    Sorted once (numpy's SIMD sort: about as fast as one ``np.quantile`` of the same
    values), every quantile is an index and every histogram count a binary search; the
    prepared reference's columns are sorted already.
    """

    values: np.ndarray
    n_dropped: int = 0

    @classmethod
    def of(cls, values: np.ndarray, n_dropped: int = 0) -> Sample:
        return cls(np.sort(values), n_dropped)

    def quantiles(self, probabilities: list[float]) -> np.ndarray:
        """Linear-interpolated quantiles, numpy's default method."""
        position = np.asarray(probabilities) * (self.values.size - 1)
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, self.values.size - 1)
        weight = position - below
        low, high = self.values[below], self.values[above]
        with np.errstate(over="ignore", invalid="ignore"):
            mixed = low + (high - low) * weight
        return np.where(weight == 0, low, mixed)

    def counts(self, inner_edges: np.ndarray) -> np.ndarray:
        """Values per bin: below the first inner edge, between edges, from the last edge up."""
        cumulative = np.searchsorted(self.values, inner_edges, side="left")
        return np.diff(np.concatenate([[0], cumulative, [self.values.size]]))

    def outside(self, lo: float, hi: float) -> float:
        """Share of values below ``lo`` or above ``hi``."""
        below = int(np.searchsorted(self.values, lo, side="left"))
        above = self.values.size - int(np.searchsorted(self.values, hi, side="right"))
        return (below + above) / self.values.size

    def mean(self) -> float:
        scale = max(abs(float(self.values[0])), abs(float(self.values[-1])), 1.0)
        if scale < _HUGE:
            return float(np.mean(self.values))
        return float(np.mean(self.values / scale)) * scale  # the sum would overflow


@dataclass
class NumericSummary:
    """Shares per bin on a common axis, quantiles and means of both sides."""

    edges: np.ndarray  # BINS + 1 edges, in units of ``scale``
    scale: float
    reference_share: np.ndarray
    current_share: np.ndarray
    reference_quantiles: np.ndarray  # at QUANTILES, real units
    current_quantiles: np.ndarray
    reference_mean: float
    current_mean: float
    n_reference: int
    n_current: int
    reference_dropped: int
    current_dropped: int
    reference_outside: float  # share of values beyond the axis (counted in the end bins)
    current_outside: float
    integer_bins: bool


@dataclass
class CategoricalSummary:
    """Shares of the most frequent categories on either side, the rest pooled."""

    names: list[str]
    reference_share: list[float]
    current_share: list[float]
    n_other: int  # categories pooled into the last row (0: none)
    new: list[str]  # in the current batch only
    gone: list[str]  # in the reference only
    n_categories: tuple[int, int]
    n_reference: int
    n_current: int
    reference_dropped: int
    current_dropped: int


def reference_sample(source: ReferenceSource, name: str) -> Sample | None:
    """The reference's finite values of a numeric column (None when it is not numeric there)."""
    if isinstance(source, PreparedReference):
        column = source.column(name)
        if not isinstance(column, NumericColumn):
            return None
        return Sample(column.sorted, column.n_dropped)
    clean = clean_numeric(source[name])
    return Sample.of(clean.values, clean.n_dropped)


def reference_categories(source: ReferenceSource, name: str) -> tuple[dict[str, int], int] | None:
    """The reference's counts per category and its nulls (None when it is numeric there)."""
    if isinstance(source, PreparedReference):
        column = source.column(name)
        if not isinstance(column, CategoricalColumn):
            return None
        return column.counts, column.n_dropped
    return category_counts(source[name])


def current_sample(series: pd.Series) -> Sample:
    clean = clean_numeric(series)
    return Sample.of(clean.values, clean.n_dropped)


def _is_whole(sample: Sample) -> bool:
    values = sample.values
    if values.size > 20_000:  # a strided look is enough to choose the binning
        values = values[:: values.size // 10_000]
    return bool(np.all(values == np.round(values)))


def summarise_numeric(reference: Sample, current: Sample) -> NumericSummary | None:
    """Histogram shares on a shared axis (0.5%–99.5% of both samples); None without values."""
    if reference.values.size == 0 or current.values.size == 0:
        return None
    probabilities = [p for _, p in QUANTILES]
    ref_q = reference.quantiles([*AXIS_QUANTILES, 0.0, 1.0, *probabilities])
    cur_q = current.quantiles([*AXIS_QUANTILES, 0.0, 1.0, *probabilities])
    # Python floats: a span of ±1e308 overflows to inf here without a numpy warning.
    lo, hi = min(float(ref_q[0]), float(cur_q[0])), max(float(ref_q[1]), float(cur_q[1]))
    full_lo = min(float(ref_q[2]), float(cur_q[2]))
    full_hi = max(float(ref_q[3]), float(cur_q[3]))
    integer = (
        full_hi - full_lo <= MAX_INTEGER_BINS
        and full_lo.is_integer()
        and full_hi.is_integer()
        and _is_whole(reference)
        and _is_whole(current)
    )
    scale = 1.0
    if integer:
        edges = np.arange(full_lo - 0.5, full_hi + 1.0, 1.0)
    else:
        if not lo < hi:  # most values equal: show everything rather than one bar
            lo, hi = full_lo, full_hi
        biggest = max(abs(full_lo), abs(full_hi))
        if biggest > _HUGE:
            scale = float(biggest)
            lo, hi = lo / scale, hi / scale
        edges = np.linspace(lo, hi, BINS + 1)
        if not np.all(np.diff(edges) > 0):  # equal, or too close for distinct bins (subnormals)
            pad = max(abs(lo) * 0.05, 0.5)
            lo, hi = lo - pad, hi + pad
            edges = np.linspace(lo, hi, BINS + 1)
    inner = edges[1:-1] * scale
    ref_counts = reference.counts(inner)
    cur_counts = current.counts(inner)
    return NumericSummary(
        edges=edges,
        scale=scale,
        reference_share=ref_counts / reference.values.size,
        current_share=cur_counts / current.values.size,
        reference_quantiles=ref_q[4:],
        current_quantiles=cur_q[4:],
        reference_mean=reference.mean(),
        current_mean=current.mean(),
        n_reference=int(reference.values.size),
        n_current=int(current.values.size),
        reference_dropped=reference.n_dropped,
        current_dropped=current.n_dropped,
        reference_outside=reference.outside(edges[0] * scale, edges[-1] * scale),
        current_outside=current.outside(edges[0] * scale, edges[-1] * scale),
        integer_bins=integer,
    )


def summarise_categorical(
    reference: tuple[dict[str, int], int], current: tuple[dict[str, int], int]
) -> CategoricalSummary | None:
    """``TOP_CATEGORIES`` categories (the largest, then the largest movers), the rest pooled."""
    ref_counts, ref_null = reference
    cur_counts, cur_null = current
    n_ref, n_cur = sum(ref_counts.values()), sum(cur_counts.values())
    if n_ref == 0 or n_cur == 0:
        return None
    names = set(ref_counts) | set(cur_counts)

    def share(name: str) -> tuple[float, float]:
        return ref_counts.get(name, 0) / n_ref, cur_counts.get(name, 0) / n_cur

    # The largest categories (by both sides' share together, which favours neither side),
    # plus the ones that moved most, so that a small category that drifted is named too.
    ranked = sorted(names, key=lambda n: (-sum(share(n)), n))
    if len(ranked) <= TOP_CATEGORIES + 1:  # pooling one category would hide its name for nothing
        top, rest = ranked, []
    else:
        chosen = set(ranked[:TOP_BY_SHARE])
        movers = sorted(
            (n for n in ranked if n not in chosen),
            key=lambda n: (-abs(share(n)[1] - share(n)[0]), n),
        )
        chosen.update(movers[: TOP_CATEGORIES - TOP_BY_SHARE])
        top = [n for n in ranked if n in chosen]
        rest = [n for n in ranked if n not in chosen]
    ref_share = [share(n)[0] for n in top]
    cur_share = [share(n)[1] for n in top]
    if rest:
        ref_share.append(math.fsum(share(n)[0] for n in rest))
        cur_share.append(math.fsum(share(n)[1] for n in rest))
    return CategoricalSummary(
        names=top,
        reference_share=ref_share,
        current_share=cur_share,
        n_other=len(rest),
        new=sorted(n for n in cur_counts if n not in ref_counts),
        gone=sorted(n for n in ref_counts if n not in cur_counts),
        n_categories=(len(ref_counts), len(cur_counts)),
        n_reference=n_ref,
        n_current=n_cur,
        reference_dropped=ref_null,
        current_dropped=cur_null,
    )
