"""Independent per-column work, run side by side on a few threads.

A check's cost is one sort per column (and, for a one-shot check, one sort of each
reference column). numpy's sort and searchsorted and pyarrow's kernels release the GIL,
so on a machine with several cores the columns proceed in parallel. Results come back
in input order, so how the work was scheduled never changes a result.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many values in all, starting threads costs more than it saves (a daemon's
# small drops are checked on the calling thread).
PARALLEL_MIN_VALUES = 200_000


def worker_count() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's total)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def start_order(items: Sequence[T], cost: Callable[[T], float] | None) -> list[int]:
    """Indices of ``items``, costliest first; equal costs (or no ``cost``) keep input order."""
    order = list(range(len(items)))
    if cost is not None:
        order.sort(key=lambda i: -cost(items[i]))  # a stable sort
    return order


def map_columns(
    func: Callable[[T], R],
    items: Sequence[T],
    values: int,
    workers: int | None = None,
    cost: Callable[[T], float] | None = None,
) -> list[R]:
    """``[func(item) for item in items]``, on up to ``workers`` threads when worth it.

    Args:
        func: the per-column work; it must not raise (a column's failure is its result).
        items: one per column, in the order the results are wanted.
        values: how many values the work touches in all, to decide whether threads pay.
        workers: thread count; default: the cores this process may use.
        cost: an item's relative cost; on threads the costliest start first, so no thread
            is left with a long item at the end while the others wait (results keep the
            input order).
    """
    count = min(worker_count() if workers is None else max(workers, 1), len(items))
    if count <= 1 or values < PARALLEL_MIN_VALUES:
        return [func(item) for item in items]
    order = start_order(items, cost)
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="driftwarden-column") as pool:
        done = dict(zip(order, pool.map(lambda i: func(items[i]), order), strict=True))
    return [done[i] for i in range(len(items))]
