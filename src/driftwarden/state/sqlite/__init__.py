"""The sqlite state engine (the default: embedded, nothing to run): every SQL statement of the
ledger and the outbox lives in this package, each store in its own file of the state directory.
"""

from __future__ import annotations

from pathlib import Path

from driftwarden.config.model import Settings
from driftwarden.state.fencing import Owner
from driftwarden.state.leases import LocalLeases
from driftwarden.state.paths import LEDGER_FILE, OUTBOX_FILE
from driftwarden.state.sqlite.ledger import SqliteLedger
from driftwarden.state.sqlite.locks import FileLock, cycle_lock_path
from driftwarden.state.sqlite.outbox import SqliteOutbox

__all__ = ["SqliteEngine", "SqliteLedger", "SqliteOutbox"]

# The single-flight lock of a state directory's retrains (one cycle at a time, any model).


class SqliteEngine:
    """``ledger.db`` and ``outbox.db`` in the state directory (one instance: it owns every
    model, so the leases are ``LocalLeases`` and nothing is fenced)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.ledger_path = Path(directory) / LEDGER_FILE
        self.outbox_path = Path(directory) / OUTBOX_FILE

    @classmethod
    def from_settings(cls, settings: Settings, owner: Owner) -> SqliteEngine:
        return cls(Path(settings.state.directory))

    def leases(self, readonly: bool = False) -> LocalLeases:
        return LocalLeases()

    def retrain_lock(self, model: str) -> FileLock:
        return FileLock(cycle_lock_path(self.directory, model))

    def ledger(self, readonly: bool = False) -> SqliteLedger:
        return SqliteLedger.open(self.ledger_path, readonly=readonly)

    def outbox(self, readonly: bool = False) -> SqliteOutbox:
        return SqliteOutbox(self.outbox_path, readonly=readonly)

    def exists(self) -> dict[str, bool]:
        return {"ledger": self.ledger_path.exists(), "outbox": self.outbox_path.exists()}

    def describe(self) -> dict[str, str]:
        return {"ledger": str(self.ledger_path), "outbox": str(self.outbox_path)}
