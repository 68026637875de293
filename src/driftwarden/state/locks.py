"""Single flight: a lock that one holder at a time may take, released when its holder dies.

The retrain cycle holds one while it runs (one retrain per model across threads, processes
and, on PostgreSQL, instances). Engines give theirs through ``StateEngine.retrain_lock``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol


class SingleFlight(Protocol):
    """``with lock.hold() as held:`` tries without waiting; ``held`` says whether we got it."""

    def hold(self) -> AbstractContextManager[bool]: ...
