"""``driftwarden register``: register the best qualifying run and point the alias at it.

Defaults: experiment ``$MLFLOW_EXPERIMENT_NAME``, else ``Default`` (where ``mlflow run``
puts runs without ``--experiment-name``); metric/threshold/direction
``retrain.register_metric`` / ``retrain.register_threshold`` /
``retrain.register_direction`` (``test_score`` > 0.8); model ``model.name``; alias
``model.alias``; stage ``model.stage`` (none unless set).

The direction says which way the metric is better: ``higher`` (a run qualifies with
``metric > threshold``, the highest wins) or ``lower`` (error metrics such as ``test_rmse``:
``metric < threshold``, the lowest wins); ``auto`` derives it from the metric's name.
An experiment that does not exist is bad usage (exit 2), naming similar experiments.
"""

from __future__ import annotations

import argparse
import difflib
import os

from mlflow.tracking import MlflowClient

from driftwarden.config.metrics import Direction, metric_direction
from driftwarden.config.model import RetrainConfig, Settings
from driftwarden.errors import Finding, UsageError
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
    direction: Direction = "higher",
) -> list[str]:
    """Do the registration; return the lines saying what was done.

    Raises:
        UsageError: the experiment does not exist (similar names are listed).
        Finding: no run qualifies (the best value found, and its run, are named).
    """
    require_experiment(client, experiment)
    run = find_best_run(client, experiment, metric, threshold, direction)
    if run is None:
        raise Finding(nothing_qualifies(client, experiment, metric, threshold, direction))
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
        best = "lowest" if direction == "lower" else "best"
        lines.append(
            f"registered run {run_id} ({metric}={value:.4f}, {best} in experiment "
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


def require_experiment(client: MlflowClient, experiment: str) -> None:
    """UsageError naming ``experiment`` and the existing names closest to it, if it is missing."""
    with mlflow_calls():
        if client.get_experiment_by_name(experiment) is not None:
            return
        names = [e.name for e in client.search_experiments(max_results=1000)]
    close = difflib.get_close_matches(experiment, names, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(n) for n in close)}?" if close else ""
    known = f" (experiments: {', '.join(repr(n) for n in sorted(names)[:10])})" if names else ""
    raise UsageError(
        f"experiment {experiment!r} does not exist{hint}{known if not close else ''}; "
        "pass --experiment NAME or set MLFLOW_EXPERIMENT_NAME"
    )


def nothing_qualifies(
    client: MlflowClient, experiment: str, metric: str, threshold: float, direction: Direction
) -> str:
    """Why no run qualifies: the rule searched, and the best value any finished run has."""
    comparison = "<" if direction == "lower" else ">"
    said = (
        f"no run qualifies: searched experiment {experiment!r} for finished runs with "
        f"metrics.{metric} {comparison} {threshold}"
    )
    best = find_best_run(client, experiment, metric, None, direction)
    if best is None:
        return f"{said}; no finished run has the metric {metric!r}"
    value = best.data.metrics[metric]
    return f"{said}; the best is {metric}={value:.4f} (run {best.info.run_id})"


def register_direction(flag: str | None, metric: str, retrain: RetrainConfig) -> Direction:
    """``--direction``, else the config's direction for the config's metric, else by name."""
    if flag in ("higher", "lower"):
        return "lower" if flag == "lower" else "higher"
    if flag is None and metric == retrain.register_metric:
        return retrain.register_better
    return metric_direction(metric)


def register_from_args(args: argparse.Namespace, settings: Settings) -> list[str]:
    """``driftwarden register``'s work: the flags over the config's ``retrain`` keys; returns
    the lines to print. Raises ``Finding`` (exit 1) when no run qualifies."""
    metric = args.metric or settings.retrain.register_metric
    direction = register_direction(args.direction, metric, settings.retrain)
    client = configure_mlflow(settings)
    return register_best(
        client,
        experiment=training_experiment(args.experiment),
        metric=metric,
        threshold=(
            args.threshold if args.threshold is not None else settings.retrain.register_threshold
        ),
        model_name=args.model_name or settings.model.name,
        alias=args.alias or settings.model.alias,
        stage=args.stage or settings.model.stage,
        direction=direction,
    )
