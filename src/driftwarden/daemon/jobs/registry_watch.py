"""The registry watcher: the one path by which a new production model comes into force.

A poll reads the version the alias (or, when configured and no alias is set, the legacy
stage) points at. When it differs from the version in force — whoever moved it: a person,
``driftwarden register``, ``rollback`` or the daemon's own remediation — the model is loaded,
the reference switches to its training data when ``reference.source = "model"``, the
version gauge moves, and a validation on the latest labelled data is queued. Remediation
asks for an immediate poll instead of switching anything itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftwarden.config.model import Settings
from driftwarden.daemon.intake.reference import ReferenceHolder, load_model_reference
from driftwarden.daemon.jobs.queue import Request
from driftwarden.events import Publish
from driftwarden.events.types import ModelInForce, ModelMoved, NoProductionModel
from driftwarden.observability.metrics import Metrics
from driftwarden.state import Ledger
from driftwarden.tracking.access import MlflowAccess

if TYPE_CHECKING:
    from driftwarden.tracking.models import ProductionModel


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


class RegistryWatcher:
    """Polls one model's alias on its worker thread (``poll`` is a job handler)."""

    def __init__(
        self,
        model: str,
        config: Callable[[], Settings],
        mlflow: MlflowAccess,
        ledger: Ledger,
        metrics: Metrics,
        production: ModelHolder,
        reference: ReferenceHolder,
        reference_dir: Path,
        request: Request,
        publish: Publish,
    ) -> None:
        self.model = model
        self.config = config
        self.mlflow = mlflow
        self.ledger = ledger
        self.metrics = metrics
        self.production = production
        self.reference = reference
        self.reference_dir = reference_dir
        self.request = request
        self._publish = publish
        self.version: str | None = None
        self._absent_reported = False

    def forget_version(self) -> None:
        """Load the current version again at the next poll (the reference now follows the model)."""
        self.version = None

    def poll(self) -> bool:
        """One poll; True when a new version came into force."""
        from driftwarden.tracking import registry

        model_cfg = self.config().model
        t0 = time.monotonic()
        client = self.mlflow.client()
        found: Any = registry.get_version_by_alias(client, self.model, model_cfg.alias)
        source = f"alias {model_cfg.alias}"
        if found is None and model_cfg.stage is not None:
            found = registry.get_version_by_stage(client, self.model, model_cfg.stage)
            source = f"stage {model_cfg.stage}"
        self.metrics.observe_check(self.model, "registry", "ok", time.monotonic() - t0)
        if found is None:
            if not self._absent_reported:
                self._publish(NoProductionModel(self.model, model_cfg.alias))
                self._absent_reported = True
            return False
        self._absent_reported = False
        version = str(found.version)
        if version == self.version:
            return False
        self.switch(version, str(found.run_id), source)
        return True

    def switch(self, version: str, run_id: str, source: str) -> None:
        """Load ``version`` and put it (and its reference) in force."""
        from driftwarden.tracking.models import download_training_data, load_model_version

        settings = self.config()
        client = self.mlflow.client()
        self._publish(ModelMoved(self.model, version, self.version, source))
        model = load_model_version(client, self.model, version)
        reference = None
        if settings.reference.source == "model":
            dst = self.reference_dir / f"v{version}"
            dst.mkdir(parents=True, exist_ok=True)
            local = download_training_data(client, run_id, settings.reference.artifact_path, dst)
            store = self.reference.store
            if store is None:
                reference = load_model_reference(settings, Path(local), version)
            else:
                reference = store.model_reference(settings, Path(local), version, run_id)
        self.production.set(model)
        if reference is not None:
            self.reference.set(reference)
        previous, self.version = self.version, version
        self.metrics.set_production_version(self.model, version)
        changed = self.ledger.record_model_version(self.model, version, run_id, source)
        self._publish(ModelInForce(self.model, version, previous, run_id))
        if changed:
            self.request("validation", f"production model is now version {version}")
        if reference is not None:
            self.request("rescan", "reference switched")
