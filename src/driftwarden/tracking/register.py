"""``driftwarden register``: register the best qualifying run and point the alias at it.

Defaults: experiment ``$MLFLOW_EXPERIMENT_NAME``, else ``Default`` (where ``mlflow run``
puts runs without ``--experiment-name``); metric/threshold ``retrain.register_metric`` /
``retrain.register_threshold`` (``test_score`` > 0.8); model ``model.name``; alias
``model.alias``; stage ``model.stage`` (none unless set).
"""

from __future__ import annotations

import argparse
import os

from mlflow.tracking import MlflowClient

from driftwarden.config import load_settings
from driftwarden.errors import Finding
from driftwarden.logs import setup_logging
from driftwarden.tracking.client import configure_mlflow
from driftwarden.tracking.registry import (
    find_best_run,
    get_version_by_alias,
    mlflow_calls,
    register_run,
    set_alias,
    tag_version,
    transition_stage,
    versions_of_run,
)

DEFAULT_EXPERIMENT = "Default"


def training_experiment(explicit: str | None) -> str:
    """The experiment to search: the flag, else ``$MLFLOW_EXPERIMENT_NAME``, else ``Default``."""
    return explicit or os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT


def register_best(
    client: MlflowClient,
    experiment: str,
    metric: str,
    threshold: float,
    model_name: str,
    alias: str,
    stage: str | None = None,
) -> list[str]:
    """Do the registration; return the lines saying what was done. Finding if nothing qualifies."""
    run = find_best_run(client, experiment, metric, threshold)
    if run is None:
        with mlflow_calls():
            exists = client.get_experiment_by_name(experiment) is not None
        why = "" if exists else " (the experiment does not exist)"
        raise Finding(
            f"no run qualifies: searched experiment {experiment!r} for finished runs with "
            f"metrics.{metric} > {threshold}{why}"
        )
    run_id = run.info.run_id
    value = run.data.metrics[metric]
    lines = []
    already = versions_of_run(client, model_name, run_id)
    version = register_run(client, run_id, model_name)
    if already:
        lines.append(
            f"run {run_id} ({metric}={value:.4f}) is already {model_name!r} version "
            f"{version.version}; no new version created"
        )
    else:
        tag_version(
            client,
            model_name,
            version.version,
            {"driftwarden.registered_by": "register", f"driftwarden.{metric}": value},
        )
        lines.append(
            f"registered run {run_id} ({metric}={value:.4f}, best in experiment "
            f"{experiment!r}) as {model_name!r} version {version.version}"
        )
    previous = get_version_by_alias(client, model_name, alias)
    set_alias(client, model_name, alias, version.version)
    was = f"was version {previous.version}" if previous else "was unset"
    lines.append(f"alias {alias!r} -> version {version.version} ({was})")
    if stage:
        transition_stage(client, model_name, version.version, stage)
        lines.append(f"stage {stage!r} -> version {version.version} (others archived)")
    lines.append(f"load it with models:/{model_name}@{alias}")
    return lines


def register_command(args: argparse.Namespace) -> int:
    """``driftwarden register``: 0 done, 1 no run qualifies, 2 bad config, 3 MLflow down."""
    settings = load_settings(args.config)
    setup_logging(
        args.log_level or settings.logging.level, args.log_format or settings.logging.format
    )
    client = configure_mlflow(settings)
    lines = register_best(
        client,
        experiment=training_experiment(args.experiment),
        metric=args.metric or settings.retrain.register_metric,
        threshold=(
            args.threshold if args.threshold is not None else settings.retrain.register_threshold
        ),
        model_name=args.model_name or settings.model.name,
        alias=args.alias or settings.model.alias,
        stage=args.stage or settings.model.stage,
    )
    for line in lines:
        print(line)
    return 0
