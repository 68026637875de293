"""The daemon's durable state behind one interface: the ledger, the outbox store, the leases.

Callers open stores through :func:`open_ledger` / :func:`open_outbox` (or the engine from
:func:`engine_for`) and see only the ``Ledger``, ``OutboxStore``, ``LeaseStore`` and
``SingleFlight`` protocols; the engine is chosen by ``state.url``'s scheme from ``ENGINES``
(uvicorn-style "module:Class" strings, imported on use): no URL is the embedded sqlite
engine, ``postgresql://`` the shared PostgreSQL one. SQL lives inside the engine's package.
"""

from __future__ import annotations

import importlib
from typing import Protocol
from urllib.parse import urlsplit

from driftwarden.config.model import Settings
from driftwarden.state.fencing import Fences, Owner
from driftwarden.state.instance import instance_id
from driftwarden.state.leases import Lease, LeaseStore, Membership
from driftwarden.state.ledger import Ledger
from driftwarden.state.locks import SingleFlight
from driftwarden.state.outbox import OutboxStore
from driftwarden.state.records import CheckRecord, FileClaim, OutboxItem

__all__ = [
    "ENGINES",
    "CheckRecord",
    "Fences",
    "FileClaim",
    "Lease",
    "LeaseStore",
    "Ledger",
    "Membership",
    "OutboxItem",
    "OutboxStore",
    "Owner",
    "SingleFlight",
    "StateEngine",
    "engine_for",
    "engine_name",
    "instance_id",
    "open_ledger",
    "open_outbox",
]


class StateEngine(Protocol):
    """Opens the stores of one state location."""

    def ledger(self, readonly: bool = False) -> Ledger: ...
    def outbox(self, readonly: bool = False) -> OutboxStore: ...
    def leases(self, readonly: bool = False) -> LeaseStore: ...
    def retrain_lock(self, model: str) -> SingleFlight:
        """Single flight of ``model``'s retrain cycles (across instances on a shared engine)."""
        ...

    def exists(self) -> dict[str, bool]:
        """Which stores exist already (``driftwarden status`` reads only what is there)."""
        ...

    def describe(self) -> dict[str, str]:
        """Where each store lives, for people (paths or redacted URLs)."""
        ...


# engine name -> "module:Class"; the class's ``from_settings(settings, owner)`` builds it.
ENGINES: dict[str, str] = {
    "sqlite": "driftwarden.state.sqlite:SqliteEngine",
    "postgresql": "driftwarden.state.postgres:PostgresEngine",
}
# state.url scheme -> engine name.
SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql"}


def engine_name(settings: Settings) -> str:
    """The engine a config asks for: sqlite without ``state.url``, else by its scheme."""
    if settings.state.url is None:
        return "sqlite"
    scheme = urlsplit(settings.state.url).scheme
    return SCHEMES.get(scheme, scheme)


def engine_for(settings: Settings, owner: Owner | None = None) -> StateEngine:
    """The engine for ``settings``; an unknown name lists the valid ones.

    ``owner``: who writes (the daemon passes its instance id and fences); default: this
    process under its instance id, unfenced (commands run by hand).
    """
    name = engine_name(settings)
    if name not in ENGINES:
        raise ValueError(f"unknown state engine {name!r}; valid: {sorted(ENGINES)}")
    module_name, class_name = ENGINES[name].split(":")
    engine_class = getattr(importlib.import_module(module_name), class_name)
    engine: StateEngine = engine_class.from_settings(
        settings, owner or Owner(instance_id(settings))
    )
    return engine


def open_ledger(settings: Settings, readonly: bool = False) -> Ledger:
    return engine_for(settings).ledger(readonly)


def open_outbox(settings: Settings, readonly: bool = False) -> OutboxStore:
    return engine_for(settings).outbox(readonly)


def is_shared(settings: Settings) -> bool:
    """Whether several instances may share this state (leases and fencing matter)."""
    return engine_name(settings) != "sqlite"
