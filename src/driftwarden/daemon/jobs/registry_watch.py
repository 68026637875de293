"""The registry watcher: the one path by which a new production model comes into force.

A poll reads the version the alias (or, when configured and no alias is set, the legacy
stage) points at. When it differs from the version in force — whoever moved it: a person,
``driftwarden register``, ``rollback`` or the daemon's own remediation — the model is loaded,
the reference switches to its training data when ``reference.source = "model"``, the
version gauge moves, and a validation on the latest labelled data is queued. Remediation
asks for an immediate poll instead of switching anything itself.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from driftwarden.daemon.intake.reference import load_model_reference
from driftwarden.daemon.jobs.context import DaemonContext

log = logging.getLogger(__name__)


class RegistryWatcher:
    """Polls the registry on the worker thread (``poll`` is a job handler)."""

    def __init__(self, ctx: DaemonContext, reference_dir: Path) -> None:
        self.ctx = ctx
        self.reference_dir = reference_dir
        self.version: str | None = None
        self._absent_logged = False

    def poll(self) -> bool:
        """One poll; True when a new version came into force."""
        from driftwarden.tracking import registry

        ctx = self.ctx
        model_cfg = ctx.settings.model
        t0 = time.monotonic()
        client = ctx.mlflow.client()
        found: Any = registry.get_version_by_alias(client, model_cfg.name, model_cfg.alias)
        source = f"alias {model_cfg.alias}"
        if found is None and model_cfg.stage is not None:
            found = registry.get_version_by_stage(client, model_cfg.name, model_cfg.stage)
            source = f"stage {model_cfg.stage}"
        ctx.metrics.observe_check(ctx.model_name, "registry", "ok", time.monotonic() - t0)
        if found is None:
            if not self._absent_logged:
                log.info(
                    "no production model yet",
                    extra={"model": model_cfg.name, "alias": model_cfg.alias},
                )
                self._absent_logged = True
            return False
        self._absent_logged = False
        version = str(found.version)
        if version == self.version:
            return False
        self.switch(version, str(found.run_id), source)
        return True

    def switch(self, version: str, run_id: str, source: str) -> None:
        """Load ``version`` and put it (and its reference) in force."""
        from driftwarden.tracking.models import download_training_data, load_model_version

        ctx = self.ctx
        settings = ctx.settings
        name = settings.model.name
        client = ctx.mlflow.client()
        log.info(
            "production model moved; loading it",
            extra={"model": name, "version": version, "previous": self.version, "via": source},
        )
        model = load_model_version(client, name, version)
        reference = None
        if settings.reference.source == "model":
            dst = self.reference_dir / f"v{version}"
            dst.mkdir(parents=True, exist_ok=True)
            local = download_training_data(client, run_id, settings.reference.artifact_path, dst)
            reference = load_model_reference(settings, Path(local), version)
        ctx.model.set(model)
        if reference is not None:
            ctx.reference.set(reference)
        previous, self.version = self.version, version
        ctx.metrics.set_production_version(name, version)
        changed = ctx.ledger.record_model_version(name, version, run_id, source)
        log.info(
            "production model in force",
            extra={"model": name, "version": version, "previous": previous, "run_id": run_id},
        )
        if changed:
            ctx.request("validation", f"production model is now version {version}")
        if reference is not None:
            ctx.request("rescan", "reference switched")
