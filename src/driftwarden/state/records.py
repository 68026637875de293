"""The records the state stores take and give, the same for every engine."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

ClaimKind = Literal["new", "redo", "duplicate", "finish_move", "ignore"]


@dataclass(frozen=True)
class FileClaim:
    """What ``Ledger.begin_file`` decided for one file.

    ``new``/``redo``: check it (row is ``processing``). ``duplicate``: same content was
    already checked under another name (row recorded, file still to be moved).
    ``finish_move``: handled before a crash, only the move is missing (``status`` says
    where to). ``ignore``: handled and deliberately kept in place.
    """

    kind: ClaimKind
    file_id: int
    status: str
    duplicate_of: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class CheckRecord:
    """One check to record (a drift check or a validation), with its outbox key."""

    kind: str
    scope: str
    model: str
    outcome: str
    model_version: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    outbox_key: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class OutboxItem:
    """One queued MLflow write."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    created_at: float
    attempts: int
