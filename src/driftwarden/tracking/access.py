"""One lazily created MLflow client for a process's threads (the daemon's worker and writer).

The client is created on first use (``import mlflow`` costs seconds), so the daemon is ready
before MLflow is touched and keeps checking while MLflow is down.
"""

from __future__ import annotations

import threading
from typing import Any

from driftwarden.config.model import Settings


class MlflowAccess:
    """One lazily created MlflowClient shared by the worker and the outbox flusher."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._client: Any = None
        self._experiments: dict[str, str] = {}

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                from driftwarden.tracking.client import configure_mlflow

                self._client = configure_mlflow(self.settings)
            return self._client

    def experiment_id(self, name: str) -> str:
        """The experiment's id, created when missing; raises MlflowUnavailable when unreachable."""
        if name in self._experiments:
            return self._experiments[name]
        from driftwarden.tracking.client import ensure_experiment

        experiment_id = ensure_experiment(
            self.client(), name, self.settings.mlflow.artifact_location
        )
        self._experiments[name] = experiment_id
        return experiment_id

    def refresh_connections(self) -> None:
        """Drop the pooled connections of a database store (sqlite, SQL) after a failed write.

        MLflow keeps one engine per store URI for the whole process; sqlite opens a file of
        a read-only file system read-only and that connection stays so even once the file
        system is writable again. Disposing the engine's pool makes the next call open fresh
        connections (the engine itself stays). Nothing happens for an HTTP server.
        """
        if self._client is None:
            return  # no engine created yet
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        engines = getattr(SqlAlchemyStore, "_engine_map", {})  # MLflow's own cache (private)
        engine = engines.get(self.settings.tracking_uri)
        if engine is not None:
            engine.dispose()
