"""Freed memory handed back to the system when a part goes idle after work.

A check allocates a few hundred MB of short-lived arrays and frames; after they are
freed, glibc keeps much of its heap and Arrow's pool keeps its pages, so an idle daemon
would hold the peak of its last burst (about 30 MB more after five 100,000-row files,
``benchmarks/footprint_bench.py``). Releasing costs a few milliseconds, once per idle
spell, never while work is waiting.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from functools import cache
from typing import Any


@cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def release_memory() -> None:
    """Return free heap pages (glibc ``malloc_trim``), Arrow's cached pages and the pages of
    mapped prepared references to the system."""
    pyarrow = sys.modules.get("pyarrow")  # never imported for this
    if pyarrow is not None:
        release = getattr(pyarrow.default_memory_pool(), "release_unused", None)
        if release is not None:
            release()
    store = sys.modules.get("driftwarden.data.prepared_store")
    if store is not None:  # mapped reference pages a check touched
        store.release_mapped_pages()
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is not None:
        trim(0)


class IdleRelease:
    """``worked()`` after each piece of work; ``idle()`` when none is waiting releases once."""

    def __init__(self) -> None:
        self._worked = threading.Event()

    def worked(self) -> None:
        self._worked.set()

    def idle(self) -> None:
        if self._worked.is_set():
            self._worked.clear()
            release_memory()
