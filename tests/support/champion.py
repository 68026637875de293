"""One trained champion per test session: the example project trained with `mlflow run` by a
real remediation cycle (the first one ever: no champion yet, so it is promoted).

Training takes a minute of CPU, so it happens once; tests register its run under their own
model name (``register_champion``) and write only under names of their own in the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftwarden.config.load import load_settings
from driftwarden.config.model import Settings
from tests.remediation.fixtures import EXAMPLE_PROJECT, concept_frame, write_config
from tests.support.mlflow_store import fresh_store

# The retrain settings the champion was trained with (tests that retrain start from them).
TRAINING: dict[str, Any] = {
    "project_uri": str(EXAMPLE_PROJECT),
    "parameters": {"num_trees": 30, "seed": 1},
    "timeout_seconds": 300.0,
    "cooldown_seconds": 0.0,
    "register_threshold": 0.6,
    "reference_share": 0.25,
    "holdout_fraction": 0.3,
}


@dataclass(frozen=True)
class ChampionStore:
    """A sqlite store holding the champion's run (trained on concept 'a', 600 rows)."""

    root: Path
    tracking_uri: str
    artifacts: str
    reference: Path
    run_id: str

    @property
    def mlflow(self) -> dict[str, str]:
        """The ``[mlflow]`` section that points at this store."""
        return {"tracking_uri": self.tracking_uri, "artifact_location": self.artifacts}


def train_champion(root: Path) -> ChampionStore:
    from driftwarden.remediation.cycle import run_cycle

    root.mkdir(parents=True, exist_ok=True)
    reference = root / "reference.csv"
    concept_frame(600, seed=0, concept="a").to_csv(reference, index=False)
    tracking_uri = f"sqlite:///{fresh_store(root / 'mlflow.db')}"
    artifacts = (root / "artifacts").as_uri()
    config = write_config(
        root / "bootstrap.toml",
        {
            "mlflow": {"tracking_uri": tracking_uri, "artifact_location": artifacts},
            "model": {"name": "bootstrap"},
            "reference": {"source": "file", "path": str(reference)},
            "state": {"directory": str(root / "bootstrap-state")},
            "retrain": {**TRAINING, "experiment_name": "bootstrap"},
        },
    )
    decision = run_cycle(load_settings(config, env={}), "bootstrap", labelled_paths=[])
    assert decision.outcome == "promoted", decision
    assert "no champion" in decision.reason
    assert decision.run_id
    return ChampionStore(root, tracking_uri, artifacts, reference, decision.run_id)


def register_champion(champion: ChampionStore, settings: Settings) -> Any:
    """The champion's run as version 1 of ``settings.model.name``, under its alias; the client."""
    from driftwarden.remediation.promote import move_alias
    from driftwarden.tracking.client import configure_mlflow
    from driftwarden.tracking.registry import register_run

    client = configure_mlflow(settings)
    version = register_run(client, champion.run_id, settings.model.name)
    assert str(version.version) == "1"
    move_alias(client, settings, "1", None, by="test setup")
    return client
