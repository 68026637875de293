"""The ledger's interface: which files were handled and how, every check, alert, retrain, model version.

Exactly-once file handling rests on three calls: ``begin_file`` claims a file by path and
content hash, ``finish_file`` records the outcome and its checks in one transaction,
``mark_moved`` notes that the file left the drop directory. A row left ``processing`` by a
crash is redone; a finished row whose file was not moved yet is only moved. Retrain state
lives here only: the cooldown and ``driftwarden status`` read the ``retrains`` rows. Every
row carries its model (one daemon may keep several); the queries that take ``model`` read
only that model's rows, and every model's without it.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from driftwarden.state.records import CheckRecord, FileClaim


class Ledger(Protocol):
    """What every state engine's ledger offers; thread-safe, safe beside readers in other processes.

    On a shared engine, writes that record a model's outcome (``begin_file``,
    ``finish_file``, ``record_check``, ``record_alert``, ``record_retrain`` of a running
    cycle) raise ``driftwarden.errors.LeaseLost`` and write nothing when this instance no
    longer holds the model's lease; a store that cannot be reached raises
    ``StateUnavailable`` (recoverable).
    """

    readonly: bool

    def close(self) -> None: ...

    def probe(self) -> None:
        """Write something small; raises ``StateUnavailable`` while the ledger cannot be written
        (a full disk). Every write of an engine raises it for that cause, never its own error."""
        ...

    # ---- files
    def is_kept_unchanged(self, path: str, size: int, mtime: float) -> bool: ...
    def begin_file(
        self,
        path: str,
        root: str,
        digest: str,
        size: int,
        mtime: float,
        *,
        model: str | None = None,
    ) -> FileClaim:
        """Claim a file; ``model`` (the model whose drop it is) fences the claim on a shared
        engine: only the model's lease holder may claim, and a claim left ``processing`` by
        an instance that lost the model is redone."""
        ...

    def finish_file(
        self,
        file_id: int,
        status: Literal["done", "quarantined"],
        *,
        reason: str | None = None,
        result: dict[str, Any] | None = None,
        has_target: bool = False,
        checks: list[CheckRecord] | None = None,
    ) -> None: ...
    def mark_moved(self, file_id: int, final_path: str) -> None: ...
    def processing(self) -> list[dict[str, Any]]: ...
    def get_file(self, file_id: int) -> dict[str, Any] | None: ...
    def files(self, status: str | None = None) -> list[dict[str, Any]]: ...
    def recent_done_files(
        self, limit: int, with_target: bool = False, *, model: str | None = None
    ) -> list[dict[str, Any]]: ...
    def file_counts(self, model: str | None = None) -> dict[str, int]: ...

    # ---- checks
    def record_check(self, check: CheckRecord, file_id: int | None = None) -> int: ...
    def checks(
        self,
        limit: int | None = None,
        file_id: int | None = None,
        *,
        model: str | None = None,
        since: float | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first, with ``features`` / ``features_left_out`` (``records.decode_features``)
        and ``run_id`` / ``experiment_id`` (from ``record_check_run``, else None)."""
        ...

    def record_check_run(self, outbox_key: str, run_id: str, experiment_id: str | None) -> None:
        """The MLflow run written for a check's outbox key (may come before the check itself)."""
        ...

    def last_success_time(self, model: str | None = None) -> float | None: ...

    # ---- alerts
    def record_alert(
        self,
        model: str,
        rule: str,
        status: str,
        severity: str | None = None,
        summary: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> int: ...
    def alerts(self, limit: int = 20, *, model: str | None = None) -> list[dict[str, Any]]: ...
    def firing_alerts(self, model: str) -> list[dict[str, Any]]: ...

    # ---- retrains
    def record_retrain(
        self,
        model: str,
        reason: str,
        trigger: str | None = None,
        status: str = "running",
        detail: dict[str, Any] | None = None,
    ) -> int: ...
    def finish_retrain(
        self,
        retrain_id: int,
        status: str,
        *,
        run_id: str | None = None,
        candidate_version: str | None = None,
        champion_version: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None: ...
    def last_retrain(
        self, model: str | None = None, finished_only: bool = False
    ) -> dict[str, Any] | None: ...
    def skipped_retrains_since(self, model: str, after_id: int = 0) -> int: ...
    def retrain_running(self, model: str | None = None) -> dict[str, Any] | None: ...
    def last_training_activity(self, model: str) -> float | None: ...
    def fail_stale_retrains(
        self, reason: str = "daemon restarted while it ran", *, model: str | None = None
    ) -> int:
        """Mark 'running' retrains (all, or ``model``'s) failed; the caller holds the lock."""
        ...

    # ---- model versions
    def record_model_version(
        self, model: str, version: str, run_id: str | None, source: str
    ) -> bool: ...
    def last_model_version(self, model: str | None = None) -> dict[str, Any] | None: ...
