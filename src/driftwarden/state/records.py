"""The records the state stores take and give, the same for every engine."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
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


# The numbers kept per feature and check, to plot a feature's drift over time
# (``driftwarden status --format json``); stored compactly as rows of these fields.
FEATURE_FIELDS = ("feature", "test", "p_value", "p_value_corrected", "effect_size", "drifted")


@dataclass(frozen=True)
class CheckRecord:
    """One check to record (a drift check or a validation), with its outbox key.

    ``features``: per-feature numbers of a drift check (``FEATURE_FIELDS``), at most
    ``metrics.max_features`` of them; ``features_left_out`` counts the rest.
    """

    kind: str
    scope: str
    model: str
    outcome: str
    model_version: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    outbox_key: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float = field(default_factory=time.time)
    features: tuple[Mapping[str, Any], ...] = ()
    features_left_out: int = 0


def encode_features(features: Sequence[Mapping[str, Any]], left_out: int) -> str | None:
    """The ledger's compact text of a check's per-feature numbers (None when there are none).

    ``{"fields": [...], "rows": [[...], ...], "left_out": n}``: the names once, not per row.
    Every engine stores this text as is, so a check reads back the same from any of them.
    """
    if not features and not left_out:
        return None
    rows = [[_field(row, name) for name in FEATURE_FIELDS] for row in features]
    document = {"fields": list(FEATURE_FIELDS), "rows": rows, "left_out": int(left_out)}
    return json.dumps(document, separators=(",", ":"), allow_nan=False)


def decode_features(text: str | None) -> tuple[list[dict[str, Any]], int]:
    """``encode_features`` read back: one dict per feature, and how many were left out."""
    if not text:
        return [], 0
    document = json.loads(text)
    names = document.get("fields") or []
    rows = [dict(zip(names, row, strict=False)) for row in document.get("rows") or []]
    return rows, int(document.get("left_out") or 0)


def _field(row: Mapping[str, Any], name: str) -> Any:
    value = row.get(name)
    if name == "drifted":
        return bool(value)
    if name in ("feature", "test"):
        return None if value is None else str(value)
    if isinstance(value, int | float) and value == value and abs(value) != float("inf"):
        return float(value)
    return None  # missing, NaN or infinite: JSON has no number for it


@dataclass(frozen=True)
class OutboxItem:
    """One queued MLflow write."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    created_at: float
    attempts: int
