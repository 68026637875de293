"""The outbox store's interface: a durable FIFO of MLflow writes (the logic is in ``driftwarden.outbox``)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from driftwarden.state.records import OutboxItem


class OutboxStore(Protocol):
    """Rows of writes: ``pending`` until done, ``dead`` when parked after repeated failures."""

    readonly: bool

    def insert(
        self, kind: str, payload_json: str, key: str, at: float, model: str | None = None
    ) -> int:
        """Queue a write unless its key is there already; returns the row id either way.
        ``model``: whose write it is (kept where the engine has room for it)."""
        ...

    def writer_turn(self) -> AbstractContextManager[bool]:
        """Hold the right to write (one writer at a time across the processes sharing the
        store); yields False when another holds it (that one writes the queue in order)."""
        ...

    def close(self) -> None: ...

    def pending(self) -> int: ...
    def dead(self) -> int: ...
    def oldest_pending_created_at(self) -> float | None: ...
    def peek(self, limit: int) -> list[OutboxItem]: ...
    def mark_done(self, item_id: int, at: float) -> None: ...
    def mark_failed(self, item_id: int, error: str, park: bool) -> None: ...
    def delete_done_before(self, at: float) -> int: ...

    def peek_dead(self, limit: int) -> list[OutboxItem]:
        """Parked writes, oldest first (the flusher retries them now and then)."""
        ...

    def revive(self, keys: list[str] | None) -> int:
        """Queue parked writes again (``keys``, or every one for None) with their attempts
        reset; returns how many. For an operator (``driftwarden outbox retry``)."""
        ...
