"""Tie runs of two sorted samples, counted against each other with binary searches.

The rank tests (Anderson–Darling, Cramér–von Mises) need, for each distinct value, how
many values of each sample lie below it and how many equal it. With both samples sorted
(the reference once, when prepared) that is a handful of binary searches: the pooled
sample is never built or sorted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Side = Literal["left", "right"]


@dataclass(frozen=True)
class Runs:
    """The distinct values of a sorted sample, with ``below`` (count <) and ``count`` (count ==)."""

    values: np.ndarray
    below: np.ndarray
    count: np.ndarray


def has_ties(sorted_values: np.ndarray) -> bool:
    """Whether a sorted array repeats a value (one pass, no index arrays)."""
    return bool(np.any(sorted_values[1:] == sorted_values[:-1]))


def runs(sorted_values: np.ndarray) -> Runs:
    """Run-length view of a sorted array."""
    size = sorted_values.size
    if size == 0:
        empty = np.empty(0, dtype=np.int64)
        return Runs(sorted_values[:0], empty, empty)
    starts = np.flatnonzero(sorted_values[1:] != sorted_values[:-1]) + 1
    starts = np.concatenate((np.zeros(1, dtype=np.int64), starts))
    count = np.diff(np.append(starts, size))
    return Runs(sorted_values[starts], starts, count)


def count_below(ref_sorted: np.ndarray, values: np.ndarray, side: Side) -> np.ndarray:
    """How many reference values lie below (``left``) or at or below (``right``) each value.

    ``np.searchsorted``; with ``values`` sorted too, numpy narrows each search from the
    previous one. (Measured: a cached every-16th-value fence, as KS uses, is no faster
    here, since every value needs its exact count.)
    """
    counts: np.ndarray = np.searchsorted(ref_sorted, values, side=side)
    return counts


@dataclass(frozen=True)
class Counts:
    """Per distinct value of one block: reference and current counts below it and at it.

    Scalars stand for constant columns (a reference without ties has ``ref_at = 1``).
    """

    ref_below: np.ndarray | float
    ref_at: np.ndarray | float
    cur_below: np.ndarray | float
    cur_at: np.ndarray | float


@dataclass(frozen=True)
class Pooled:
    """Both blocks of ``pooled_counts`` and where the current-only values fall.

    ``reference`` holds the reference's distinct values in order, ``current`` the values
    only the current sample has, in order; ``insert_at[i]`` is how many distinct reference
    values lie below the i-th current-only value (``np.insert`` merges the two in order).
    ``tied`` says whether any value occurs more than once in the pooled sample.
    """

    reference: Counts
    current: Counts
    insert_at: np.ndarray
    tied: bool


def pooled_counts(ref_sorted: np.ndarray, cur_sorted: np.ndarray) -> Pooled:
    """Counts for every distinct pooled value, as two blocks, in ``O(n + m log n)``.

    For the reference's values the current counts come from a histogram of where the
    current runs fall (no search per reference value).
    """
    cur = runs(cur_sorted)
    ref_tied = has_ties(ref_sorted)
    ref = runs(ref_sorted) if ref_tied else None
    ref_values = ref.values if ref is not None else ref_sorted
    k = ref_values.size
    # Current values below the i-th distinct reference value: the current runs whose value
    # v has fewer than i + 1 distinct reference values at or below it.
    right = count_below(ref_values, cur.values, "right")
    left = count_below(ref_values, cur.values, "left")
    cur_below_ref = np.cumsum(np.bincount(right, weights=cur.count, minlength=k + 1))[:k]
    shared = left < right
    cur_at_ref: np.ndarray | float = 0.0
    any_shared = bool(shared.any())
    if any_shared:
        cur_at_ref = np.zeros(k)
        cur_at_ref[left[shared]] = cur.count[shared]
    only = ~shared
    reference_block = Counts(
        ref_below=ref.below.astype(np.float64) if ref is not None else np.arange(k, dtype=float),
        ref_at=ref.count.astype(np.float64) if ref is not None else 1.0,
        cur_below=cur_below_ref,
        cur_at=cur_at_ref,
    )
    values = cur.values[only]
    current_block = Counts(
        ref_below=count_below(ref_sorted, values, "left").astype(np.float64),
        ref_at=0.0,
        cur_below=cur.below[only].astype(np.float64),
        cur_at=cur.count[only].astype(np.float64),
    )
    tied = ref_tied or any_shared or cur.values.size < cur_sorted.size
    return Pooled(reference_block, current_block, left[only], tied)


def ordered_masses(pooled: Pooled, total: int) -> tuple[np.ndarray, np.ndarray]:
    """``(h, t)`` per distinct pooled value in increasing order: its share of the pooled
    sample and the pooled ECDF at it (right-continuous, so ``t[-1] == 1``)."""
    parts = []
    for block in (pooled.reference, pooled.current):
        size = _size(block)
        at = block.ref_at + block.cur_at
        upto = block.ref_below + block.cur_below + at
        parts.append(
            (
                np.broadcast_to(np.asarray(at, dtype=np.float64), (size,)) / total,
                np.broadcast_to(np.asarray(upto, dtype=np.float64), (size,)) / total,
            )
        )
    h = np.insert(parts[0][0], pooled.insert_at, parts[1][0])
    t = np.insert(parts[0][1], pooled.insert_at, parts[1][1])
    return h, t


def _size(block: Counts) -> int:
    """Number of values in a block (its array fields' length; scalars broadcast)."""
    for value in (block.ref_below, block.cur_below, block.ref_at, block.cur_at):
        if isinstance(value, np.ndarray):
            return int(value.size)
    return 1
