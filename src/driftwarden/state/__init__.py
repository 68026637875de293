"""The daemon's durable state behind one interface: the ledger and the outbox store.

Callers open stores through :func:`open_ledger` / :func:`open_outbox` and see only the
``Ledger`` and ``OutboxStore`` protocols; the engine is chosen by name from ``ENGINES``
(uvicorn-style "module:Class" strings, imported on use). SQL lives inside the engine's
package, so another engine (PostgreSQL, for several instances) is one entry here and a
package beside ``sqlite``, without touching callers.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

from driftwarden.config.model import Settings
from driftwarden.state.ledger import Ledger
from driftwarden.state.outbox import OutboxStore
from driftwarden.state.records import CheckRecord, FileClaim, OutboxItem

__all__ = [
    "ENGINES",
    "CheckRecord",
    "FileClaim",
    "Ledger",
    "OutboxItem",
    "OutboxStore",
    "StateEngine",
    "engine_for",
    "open_ledger",
    "open_outbox",
]


class StateEngine(Protocol):
    """Opens the stores of one state location."""

    def ledger(self, readonly: bool = False) -> Ledger: ...
    def outbox(self, readonly: bool = False) -> OutboxStore: ...
    def exists(self) -> dict[str, bool]:
        """Which stores exist already (``driftwarden status`` reads only what is there)."""
        ...

    def describe(self) -> dict[str, str]:
        """Where each store lives, for people (paths or redacted URLs)."""
        ...


# engine name -> "module:Class"; the class is built with the state directory.
ENGINES: dict[str, str] = {
    "sqlite": "driftwarden.state.sqlite:SqliteEngine",
}


def engine_name(settings: Settings) -> str:
    """The engine a config asks for (sqlite until ``[state]`` grows a database URL)."""
    return "sqlite"


def engine_for(settings: Settings) -> StateEngine:
    """The engine for ``settings``; an unknown name lists the valid ones."""
    name = engine_name(settings)
    if name not in ENGINES:
        raise ValueError(f"unknown state engine {name!r}; valid: {sorted(ENGINES)}")
    module_name, class_name = ENGINES[name].split(":")
    engine_class = getattr(importlib.import_module(module_name), class_name)
    engine: StateEngine = engine_class(Path(settings.state.directory))
    return engine


def open_ledger(settings: Settings, readonly: bool = False) -> Ledger:
    return engine_for(settings).ledger(readonly)


def open_outbox(settings: Settings, readonly: bool = False) -> OutboxStore:
    return engine_for(settings).outbox(readonly)
