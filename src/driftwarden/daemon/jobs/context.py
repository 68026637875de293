"""What every job needs, built once by the service: settings, ledger, outbox, metrics, alerts, MLflow.

The MLflow client is created on first use (``import mlflow`` costs seconds), so the daemon
is ready before MLflow is touched and keeps checking while MLflow is down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftwarden.config.model import Settings
from driftwarden.daemon.intake.reference import ReferenceHolder
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.queue import Outbox
from driftwarden.state.sqlite.ledger import Ledger

if TYPE_CHECKING:
    from driftwarden.alerts.rules import Alert, AlertRules
    from driftwarden.alerts.sinks import AlertDispatcher
    from driftwarden.observability.http import HealthState
    from driftwarden.tracking.models import ProductionModel

log = logging.getLogger(__name__)


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


class ModelHolder:
    """The production model in force (None until the registry watcher loaded one)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: ProductionModel | None = None

    def get(self) -> ProductionModel | None:
        with self._lock:
            return self._model

    def set(self, model: ProductionModel) -> None:
        with self._lock:
            self._model = model


@dataclass
class DaemonContext:
    """Shared state of one daemon process; ``settings`` is swapped whole on reload."""

    settings: Settings
    ledger: Ledger
    outbox: Outbox
    metrics: Metrics
    health: HealthState
    mlflow: MlflowAccess
    reports_dir: Path
    reference: ReferenceHolder = field(default_factory=ReferenceHolder)
    model: ModelHolder = field(default_factory=ModelHolder)
    rules: AlertRules | None = None
    dispatcher: AlertDispatcher | None = None
    # Called with (trigger, detail) after a drift or validation breach (remediation hooks in here).
    breach_listeners: list[Callable[[str, dict[str, Any]], None]] = field(default_factory=list)
    # Enqueue a job kind by name with a reason (set by the service).
    request: Callable[[str, str], None] = lambda kind, reason: None
    # AlertRules keeps state and is fed from the worker and the retrain thread.
    rules_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def model_name(self) -> str:
        return self.settings.model.name

    def alert(self, observe: Callable[[AlertRules], list[Alert]]) -> None:
        """Feed the alert rules (under their lock) and deliver what they return."""
        if self.rules is None:
            return
        with self.rules_lock:
            alerts = observe(self.rules)
        self.deliver(alerts)

    def deliver(self, alerts: list[Alert]) -> None:
        """Hand alerts to the sinks and note them in the ledger."""
        for alert in alerts:
            try:
                self.ledger.record_alert(
                    alert.model or self.model_name,
                    alert.rule,
                    alert.status,
                    alert.severity,
                    alert.summary,
                    alert.labels,
                )
            except Exception:
                log.exception("could not record alert in the ledger", extra={"rule": alert.rule})
            if self.dispatcher is not None:
                self.dispatcher.submit(alert)

    def breach(self, trigger: str, detail: dict[str, Any]) -> None:
        for listener in list(self.breach_listeners):
            try:
                listener(trigger, detail)
            except Exception:
                log.exception("breach listener failed", extra={"trigger": trigger})
