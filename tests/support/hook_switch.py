"""An alias moved by a person on a real `mlflow server`, and the in-process daemon that keeps
the model switching to it: shared by tests/integration/test_hooks_switch.py and
benchmarks/hooks_bench.py.

``log_versions`` logs real models (a logistic regression and its training data, each from
its own data) through the server and registers them as versions of one model. ``HookedDaemon``
starts a daemon keeping that model with its registry poll every 10 minutes and, once it
listens, registers its webhook with the server the way ``driftwarden hooks install`` does.
``move`` moves the alias with ``MlflowClient`` and waits for ``ModelInForce`` (the daemon's
"this version is in force now"), timing the whole path: the move, MLflow's delivery, the
signature check, the poll and the switch (model loaded, training data read as the new
reference).
"""

from __future__ import annotations

import importlib.metadata
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

from driftwarden.config import load_settings
from driftwarden.events import types as ev
from driftwarden.tracking.webhook_install import install_from_settings
from tests.support.daemon_proc import models_config, sample_frame
from tests.support.inprocess import InProcessDaemon

SECRET = "hooks-switch-secret-5e2"
SECRET_ENV = "DRIFTWARDEN_HOOKS_SECRET"
POLL_INTERVAL = 600.0  # the registry poll: 10 minutes, far beyond any wait here


def log_versions(tracking_uri: str, model: str, root: Path, count: int = 2) -> list[str]:
    """``count`` versions of ``model``, each a model trained on its own data (so its reference
    differs), logged and registered through the server; returns their version numbers."""
    import mlflow
    from mlflow.models import infer_signature
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    versions: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.set_tracking_uri(tracking_uri)
        client = MlflowClient(tracking_uri)
        name = f"hooks-switch-{uuid.uuid4().hex[:8]}"
        experiment_id = client.create_experiment(name)
        for seed in range(1, count + 1):
            frame = sample_frame(400, seed=seed)[["x1", "x2", "target"]]
            features = frame[["x1", "x2"]]
            fitted = LogisticRegression().fit(features, frame["target"])
            data = root / f"v{seed}" / "training_data.csv"
            data.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(data, index=False)
            with mlflow.start_run(experiment_id=experiment_id):
                info = mlflow.sklearn.log_model(
                    fitted,
                    name="model",
                    signature=infer_signature(features, fitted.predict(features)),
                    registered_model_name=model,
                    pip_requirements=[
                        f"scikit-learn=={importlib.metadata.version('scikit-learn')}"
                    ],
                )
                mlflow.log_artifact(str(data), "training_data")
            versions.append(str(info.registered_model_version))
    return versions


class HookedDaemon:
    """An in-process daemon keeping ``model`` (alias ``production``), its webhook registered.

    The environment must hold ``SECRET`` in ``SECRET_ENV`` (the daemon and the install read
    it). ``start_daemon`` is the suite's fixture of that name (or a stand-in that starts an
    ``InProcessDaemon`` and stops it later).
    """

    def __init__(
        self, root: Path, tracking_uri: str, model: str, hook_name: str, start_daemon: Any
    ) -> None:
        self.model = model
        self.tracking_uri = tracking_uri
        self.sections: dict[str, dict[str, Any]] = {
            "mlflow": {"tracking_uri": tracking_uri},
            "reference": {"source": "model"},  # the training data logged with each version
            "schedule": {"registry_poll": {"enabled": True, "interval_seconds": POLL_INTERVAL}},
            "hooks": {"enabled": True, "webhook_name": hook_name, "secret_env": SECRET_ENV},
        }
        self.root = root
        self.models = {"kept": {"name": model}}
        self.running: InProcessDaemon = start_daemon(
            models_config(root, self.models, **self.sections)
        )
        # When the daemon set out to switch to each version (ModelMoved, monotonic seconds).
        self.moved_at: dict[str, float] = {}
        self.running.daemon.bus.subscribe(self._moved, ev.ModelMoved)

    def _moved(self, event: ev.Event) -> None:
        if isinstance(event, ev.ModelMoved) and event.model == self.model:
            self.moved_at[event.version] = time.monotonic()

    def install_hook(self) -> str:
        """Register the daemon's webhook with the server (as `hooks install` does); the action."""
        self.sections["hooks"]["public_url"] = self.running.url + "/hooks/mlflow"
        config = models_config(self.root, self.models, **self.sections)
        return install_from_settings(load_settings(config)).action

    def in_force(self, version: str, timeout: float = 30.0) -> ev.ModelInForce:
        """Wait for ``version`` in force; the latest event that put it there (an earlier one
        counts: ``move`` waits for a new one)."""
        found = self.running.wait(
            ev.ModelInForce,
            lambda e: e.model == self.model and e.version == version,
            timeout=timeout,
        )
        return found[-1]

    def switches(self, version: str) -> int:
        return len(
            [
                e
                for e in self.running.events.of(ev.ModelInForce)
                if e.model == self.model and e.version == version
            ]
        )

    def move(
        self, version: str, *, poll: bool = False, timeout: float = 30.0
    ) -> tuple[float, float]:
        """Move the alias to ``version`` as a person would; seconds until it is in force, and
        of those, until the daemon set out to switch (heard and polled; the rest is loading).

        ``poll``: ask the model's keeper for a registry poll right after the move (the
        baseline: the same switch without MLflow's delivery).
        """
        from mlflow.tracking import MlflowClient

        client = MlflowClient(self.tracking_uri)
        seen = self.switches(version)
        t0 = time.monotonic()
        client.set_registered_model_alias(self.model, "production", version)
        if poll:
            self.running.parts.keepers[self.model].requests("registry_poll", "benchmark baseline")
        self.running.wait(
            ev.ModelInForce,
            lambda e: e.model == self.model and e.version == version,
            timeout=timeout,
            count=seen + 1,
        )
        return time.monotonic() - t0, self.moved_at[version] - t0

    def hook_heard(self, versions: list[str], attempts: int = 20) -> None:
        """Move the alias back and forth until a delivery arrives: the server re-reads its
        webhook list every second (MLFLOW_WEBHOOK_CACHE_TTL), so the first move after
        installing may find none. Raises AssertionError when none ever arrives."""
        from mlflow.tracking import MlflowClient

        from driftwarden.events.recorder import EventTimeout

        client = MlflowClient(self.tracking_uri)
        for attempt in range(attempts):
            version = versions[attempt % len(versions)]
            before = len(self.running.events.of(ev.RegistryHookHeard))
            client.set_registered_model_alias(self.model, "production", version)
            try:
                self.running.wait(ev.RegistryHookHeard, timeout=3.0, count=before + 1)
                self.in_force(version)
                return
            except EventTimeout:
                continue
        raise AssertionError(f"no webhook delivery after {attempts} alias moves")
