"""Find this cycle's MLflow runs and pick the best one that passes the registration rule.

A cycle's run is found by its run name (``driftwarden-retrain-<cycle_id>``, passed with
``--run-name``); runs the project started beneath it (``mlflow.parentRunId``) count too.
The rule is the one ``driftwarden register`` applies: ``metrics.<register_metric>`` better
than ``register_threshold`` in the metric's direction (``>`` for higher-is-better, ``<`` for
error metrics), status FINISHED, best metric first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from driftwarden.config.metrics import is_better

RUN_NAME_PREFIX = "driftwarden-retrain-"


def run_name_for(cycle_id: str) -> str:
    """The unique run name a cycle passes to ``mlflow run``."""
    return f"{RUN_NAME_PREFIX}{cycle_id}"


@dataclass(frozen=True)
class Candidate:
    """A qualifying run and its registration metric."""

    run_id: str
    metric: str
    value: float


def find_cycle_run_ids(client: Any, experiment_id: str, cycle_id: str) -> list[str]:
    """Ids of the cycle's top-level run(s) and their child runs, any status."""
    name = run_name_for(cycle_id)
    top = client.search_runs(
        experiment_ids=[experiment_id],
        filter_string=f"tags.`mlflow.runName` = '{name}'",
        max_results=10,
    )
    ids = [run.info.run_id for run in top]
    for parent in list(ids):
        children = client.search_runs(
            experiment_ids=[experiment_id],
            filter_string=f"tags.`mlflow.parentRunId` = '{parent}'",
            max_results=100,
        )
        ids.extend(run.info.run_id for run in children if run.info.run_id not in ids)
    return ids


def rule_text(metric: str, threshold: float, direction: str = "higher") -> str:
    """``metrics.test_score > 0.8`` / ``metrics.test_rmse < 60``, for messages."""
    return f"metrics.{metric} {'<' if direction == 'lower' else '>'} {threshold:g}"


def best_candidate(
    client: Any, run_ids: list[str], metric: str, threshold: float, direction: str = "higher"
) -> tuple[Candidate | None, dict[str, float | None]]:
    """The best FINISHED run better than ``threshold``, and every run's metric value seen.

    ``direction`` ``higher``: ``metric > threshold``, highest wins; ``lower``: ``metric <
    threshold``, lowest wins.
    """
    seen: dict[str, float | None] = {}
    best: Candidate | None = None
    for run_id in run_ids:
        run = client.get_run(run_id)
        value = run.data.metrics.get(metric)
        seen[run_id] = None if value is None else float(value)
        if run.info.status != "FINISHED" or value is None:
            continue
        if not is_better(float(value), threshold, direction):
            continue
        if best is None or is_better(float(value), best.value, direction):
            best = Candidate(run_id=run_id, metric=metric, value=float(value))
    return best, seen
