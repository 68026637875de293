"""The sqlite state engine (the default: embedded, nothing to run): every SQL statement of the
ledger and the outbox lives in this package, each store in its own file of the state directory.
"""

from __future__ import annotations

from pathlib import Path

from driftwarden.state.paths import LEDGER_FILE, OUTBOX_FILE
from driftwarden.state.sqlite.ledger import SqliteLedger
from driftwarden.state.sqlite.outbox import SqliteOutbox

__all__ = ["SqliteEngine", "SqliteLedger", "SqliteOutbox"]


class SqliteEngine:
    """``ledger.db`` and ``outbox.db`` in the state directory."""

    def __init__(self, directory: Path) -> None:
        self.ledger_path = Path(directory) / LEDGER_FILE
        self.outbox_path = Path(directory) / OUTBOX_FILE

    def ledger(self, readonly: bool = False) -> SqliteLedger:
        return SqliteLedger.open(self.ledger_path, readonly=readonly)

    def outbox(self, readonly: bool = False) -> SqliteOutbox:
        return SqliteOutbox(self.outbox_path, readonly=readonly)

    def exists(self) -> dict[str, bool]:
        return {"ledger": self.ledger_path.exists(), "outbox": self.outbox_path.exists()}

    def describe(self) -> dict[str, str]:
        return {"ledger": str(self.ledger_path), "outbox": str(self.outbox_path)}
