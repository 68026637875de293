"""Empty sqlite MLflow stores without MLflow's migrations each time.

A new sqlite store runs MLflow's migrations (3-4 s of CPU). One database is migrated per
test process (lazily, on first use) and every store starts as a copy of it.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path

from driftwarden.config.model import Settings

_lock = threading.Lock()
_template: Path | None = None


def template() -> Path:
    """An empty, fully migrated sqlite MLflow database (the same file for the whole process)."""
    global _template
    with _lock:
        if _template is None:
            from mlflow.tracking import MlflowClient

            root = Path(tempfile.mkdtemp(prefix="driftwarden-mlflow-template-"))
            atexit.register(shutil.rmtree, root, True)
            db = root / "template.db"
            MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments()
            _template = db
        return _template


def fresh_store(db: Path) -> Path:
    """``db`` as an empty migrated store, unless it exists already (then it is left alone)."""
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template(), db)
    return db


def prepare_default_store(settings: Settings) -> None:
    """Before a daemon starts: its default store (sqlite in the state directory) pre-migrated."""
    default = f"sqlite:///{settings.state.directory / 'mlflow.db'}"
    if settings.tracking_uri == default:
        fresh_store(settings.state.directory / "mlflow.db")
