"""`driftwarden validate`: a registered model on labelled data, logged as one MLflow run.

``driftwarden validate --data FILE [--model-uri URI] [--target COL] [--min-accuracy X]
[--max-mae X] [--max-rmse X]``: the model defaults to ``models:/<model.name>@<model.alias>``;
the run goes to the experiment ``mlflow.experiment_name`` and is tagged with the model's
name and version. ``model.task`` decides the metrics: accuracy/F1/... for classifiers,
MAE/RMSE/R² for regressors.

The config, the file and its label column are checked before MLflow and the model's
flavour are imported (3-4 s of CPU): a refusal answers at once.
"""

from __future__ import annotations

import argparse

from driftwarden.commands.model_commands import model_settings
from driftwarden.config.model import Settings
from driftwarden.errors import Finding, InputFileError
from driftwarden.progress import with_progress


def default_model_uri(settings: Settings) -> str:
    return f"models:/{settings.model.name}@{settings.model.alias}"


def validate_command(args: argparse.Namespace) -> int:
    """``driftwarden validate``: 0 ok, 1 past a limit, 2 bad input, 3 MLflow down.

    Limits: ``--min-accuracy``, ``--max-mae``, ``--max-rmse`` and the config's
    ``validation.maximums`` (the config's minimums are for the daemon's alerts).
    """
    settings = model_settings(args)
    from driftwarden.data.read import read_frame  # pandas: after the config's refusals

    task = settings.model.task
    target = args.target or settings.model.target
    frame = read_frame(args.data, max_bytes=settings.watch.max_file_bytes)
    if target not in frame.columns:  # fail before paying for MLflow
        raise InputFileError(
            args.data,
            f"label column missing (columns: {list(frame.columns)}); set --target or model.target",
            field=target,
        )
    limits = command_limits(args, settings)
    from driftwarden.tracking.client import configure_mlflow, ensure_experiment
    from driftwarden.tracking.models import load_model_uri
    from driftwarden.tracking.validate import validate_frame, validation_tags
    from driftwarden.tracking.validation_run import log_validation_run

    client = configure_mlflow(settings)
    uri = args.model_uri or default_model_uri(settings)
    model = with_progress(f"loading model {uri}", load_model_uri, client, uri)
    result = validate_frame(model, frame, target, settings.validation, source=args.data, task=task)
    experiment = settings.mlflow.experiment_name
    experiment_id = ensure_experiment(client, experiment, settings.mlflow.artifact_location)
    run_id = log_validation_run(client, experiment_id, result, validation_tags(model, args.data))
    shown = " ".join(f"{k}={v:.4f}" for k, v in result.metrics.items())
    unlabelled = f" ({result.n_unlabelled} unlabelled rows left out)" if result.n_unlabelled else ""
    averaged = "" if task == "regression" else f" (average={result.average})"
    print(f"validated {model.label} ({uri}) on {args.data}: {result.n_rows} rows{unlabelled}")
    print(f"metrics: {shown}{averaged}")
    print(f"logged run {run_id} in experiment {experiment!r}")
    print(result.report.rstrip())
    breached = result.breaches(*limits)
    if breached:
        said = "; ".join(
            f"{name} {value:.4f} is {'above' if name in limits[1] else 'below'} "
            f"{limit_source(args, name)} {limit:g}"
            for name, (value, limit) in breached.items()
        )
        raise Finding(f"{model.label} on {args.data}: {said}")
    return 0


def command_limits(
    args: argparse.Namespace, settings: Settings
) -> tuple[dict[str, float], dict[str, float]]:
    """(minimums, maximums) the command fails on: its flags, then the config's maximums."""
    maximums = dict(settings.validation.maximums)
    for name in ("mae", "rmse"):
        flag = getattr(args, f"max_{name}", None)
        if flag is not None:
            maximums[name] = flag
    minimums = {"accuracy": args.min_accuracy} if args.min_accuracy is not None else {}
    return minimums, maximums


def limit_source(args: argparse.Namespace, name: str) -> str:
    """Where a limit came from, for the message: the flag or the config key."""
    if name == "accuracy":
        return "--min-accuracy"
    if getattr(args, f"max_{name}", None) is not None:
        return f"--max-{name}"
    return f"validation.maximums.{name}"
