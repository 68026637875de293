"""Gradient boosting on one OpenMP thread.

scikit-learn's histogram gradient boosting starts one OpenMP thread per core for every fit
and predict. On the few thousand rows an evaluation set has, that buys little, and on a
busy machine (the daemon shares it with its host's other work) the spinning threads can
make a fit a hundred times slower. One thread is fast, predictable and reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with OpenMP (and BLAS) limited to one thread."""
    with threadpool_limits(limits=1):
        yield
