"""Where the daemon keeps its files in the state directory (shared with ``driftwarden status``)."""

from __future__ import annotations

from pathlib import Path

from driftwarden.config.model import Settings

LEDGER_FILE = "ledger.db"
OUTBOX_FILE = "outbox.db"


def state_paths(settings: Settings) -> dict[str, Path]:
    """ledger, outbox, reports (HTML drift reports), reference (downloaded training data)
    and prepared (prepared references, memory-mapped at start)."""
    root = settings.state.directory
    return {
        "ledger": root / LEDGER_FILE,
        "outbox": root / OUTBOX_FILE,
        "reports": root / "reports",
        "reference": root / "reference",
        "prepared": root / "prepared",
    }


def report_file(reports_dir: Path, outbox_key: str) -> Path:
    """Where a drift check's HTML report waits for the outbox writer (gone once in MLflow)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in outbox_key)
    return reports_dir / f"{safe}.html"
