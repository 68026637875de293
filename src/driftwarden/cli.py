"""Command line: argument parsing and exit codes only; each command calls one function.

Heavy imports (mlflow, pandas, scipy) happen inside the command functions, so that
``driftwarden --help`` and ``driftwarden config check`` stay fast.

Exit codes: 0 success; 1 a finding the caller asked to fail on; 2 bad usage, bad config or
unreadable input; 3 an outside service failed after retries.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from driftwarden import __version__
from driftwarden.errors import ConfigError, DriftwardenError
from driftwarden.logs import setup_logging
from driftwarden.redact import printable_lines

# command name -> "module:function"; the function takes the parsed namespace and returns an exit code.
COMMANDS: dict[str, str] = {
    "run": "driftwarden.commands.run:run_command",
    "demo": "driftwarden.demo:demo_command",
    "check": "driftwarden.commands.check:check_command",
    "validate": "driftwarden.commands.validate:validate_command",
    "register": "driftwarden.commands.model_commands:register_command",
    "retrain": "driftwarden.commands.model_commands:retrain_command",
    "rollback": "driftwarden.commands.model_commands:rollback_command",
    "status": "driftwarden.commands.status:status_command",
    "config check": "driftwarden.commands.config_check:config_check_command",
    "hooks install": "driftwarden.commands.hooks:hooks_install_command",
    "estimate": "driftwarden.commands.estimate:estimate_command",
    "outbox retry": "driftwarden.commands.outbox:outbox_retry_command",
}
# command groups -> the namespace attribute that holds the subcommand's name
_GROUPS = {"config": "config_command", "hooks": "hooks_command", "outbox": "outbox_command"}


def _model_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        metavar="NAME",
        help="the registered model to act on (needed when the config keeps several)",
    )


def _config_arg(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=os.environ.get("DRIFTWARDEN_CONFIG"),
        required=required and not os.environ.get("DRIFTWARDEN_CONFIG"),
        help="TOML config file (default: $DRIFTWARDEN_CONFIG)",
    )


def _format_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=["table", "json"],
        default="table",
        help="output format (default: table)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; the names and flags are a stable contract (PRODUCT.md)."""
    parser = argparse.ArgumentParser(
        prog="driftwarden",
        description="Keeps a production ML model honest: drift, validation, alerts, gated retraining.",
    )
    parser.add_argument("--version", action="version", version=f"driftwarden {__version__}")
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default=None,
        help="log line format (default: config or text)",
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default=None,
        help="DEBUG, INFO, WARNING or ERROR (default: config or INFO)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="run the daemon in the foreground")
    _config_arg(p, required=True)

    p = sub.add_parser("demo", help="the whole loop on an embedded MLflow (sqlite)")
    p.add_argument("--workdir", metavar="DIR", help="work directory (default: a new temporary one)")
    p.add_argument("--once", action="store_true", help="exit when the loop has finished")

    p = sub.add_parser("check", help="test CURRENT for drift against REFERENCE")
    p.add_argument("reference", metavar="REFERENCE", help="reference CSV or Parquet file")
    p.add_argument("current", metavar="CURRENT", help="current CSV or Parquet file")
    _config_arg(p)
    _model_arg(p)
    _format_arg(p)
    p.add_argument("--fail-on-drift", action="store_true", help="exit 1 when the dataset drifted")
    p.add_argument(
        "--log-to-mlflow",
        action="store_true",
        help="log the check as one MLflow run (its id and the report's artifact URI are printed)",
    )
    p.add_argument(
        "--report",
        metavar="FILE",
        help="write the HTML report to FILE (the path is printed on stderr, or in the JSON)",
    )

    p = sub.add_parser(
        "validate",
        help="validate the production model on labelled data",
        description="Predict on a labelled file and log validation_accuracy, validation_f1 and "
        "the classification report (regressors, model.task = regression: validation_mae, "
        "validation_rmse, validation_r2) as one run in experiment mlflow.experiment_name.",
    )
    p.add_argument("--data", metavar="FILE", required=True, help="labelled CSV or Parquet file")
    p.add_argument("--model-uri", metavar="URI", help="default: models:/<model.name>@<model.alias>")
    p.add_argument("--target", metavar="COL", help="label column (default: model.target)")
    _config_arg(p)
    _model_arg(p)
    p.add_argument(
        "--min-accuracy", metavar="X", type=float, help="exit 1 when accuracy is below X"
    )
    p.add_argument(
        "--max-mae",
        metavar="X",
        type=float,
        help="exit 1 when MAE is above X (regression; validation.maximums also apply)",
    )
    p.add_argument("--max-rmse", metavar="X", type=float, help="exit 1 when RMSE is above X")

    p = sub.add_parser(
        "register", help="register the best qualifying run and point the alias at it"
    )
    p.add_argument(
        "--experiment",
        metavar="NAME",
        help="experiment to search (default: $MLFLOW_EXPERIMENT_NAME, else 'Default', "
        "where `mlflow run` puts runs without --experiment-name)",
    )
    p.add_argument(
        "--metric",
        metavar="NAME",
        default=None,
        help="run metric (default: retrain.register_metric, test_score)",
    )
    p.add_argument(
        "--threshold",
        metavar="X",
        type=float,
        default=None,
        help="metric must be better than X: above it, or below it for --direction lower "
        "(default: retrain.register_threshold, 0.8)",
    )
    p.add_argument(
        "--direction",
        choices=["higher", "lower", "auto"],
        default=None,
        help="which way the metric is better (default: retrain.register_direction; 'auto' "
        "and a --metric without --direction: lower for error names such as test_rmse, "
        "val_loss, else higher)",
    )
    p.add_argument(
        "--model-name", metavar="NAME", help="registered model name (default: model.name)"
    )
    p.add_argument("--alias", metavar="NAME", help="alias to point (default: model.alias)")
    p.add_argument(
        "--stage",
        metavar="NAME",
        help="also transition to this legacy stage, e.g. Production (default: model.stage)",
    )
    _config_arg(p)
    _model_arg(p)

    p = sub.add_parser("retrain", help="run one remediation cycle by hand")
    _config_arg(p, required=True)
    _model_arg(p)
    p.add_argument("--reason", metavar="TEXT", default="manual", help="recorded with the run")

    p = sub.add_parser("rollback", help="point the alias back at the previous version")
    _config_arg(p, required=True)
    _model_arg(p)
    p.add_argument(
        "--to-version", metavar="N", type=int, help="a named version instead of the previous"
    )
    p.add_argument(
        "--reason", metavar="TEXT", default="manual rollback", help="recorded with the move"
    )

    p = sub.add_parser("status", help="what the ledger knows")
    _config_arg(p, required=True)
    p.add_argument("--model", metavar="NAME", help="the model whose checks (default: model.name)")
    p.add_argument(
        "--limit", metavar="N", type=int, default=10, help="at most N checks (default: 10)"
    )
    p.add_argument(
        "--since",
        metavar="WHEN",
        help="checks since then: 2026-01-31, 2026-01-31T12:00Z (UTC unless an offset is"
        " given) or an age such as 30m, 2h, 7d",
    )
    _format_arg(p)

    p = sub.add_parser(
        "estimate",
        help="estimate a model's performance on data without labels",
        description="Estimate accuracy/F1/precision/recall (classifiers) or MAE/RMSE "
        "(regressors) on CURRENT from the model's outputs, calibrated on the labelled REFERENCE.",
    )
    p.add_argument(
        "reference", metavar="REFERENCE", help="labelled data the model did not train on"
    )
    p.add_argument(
        "current", metavar="CURRENT", help="new data (its target column, if any: realized)"
    )
    p.add_argument(
        "--model-uri",
        metavar="URI",
        help="the model predicts both files (default: "
        "outputs from the files' prediction and proba_<class> columns)",
    )
    p.add_argument("--target", metavar="COL", help="label column (default: model.target)")
    p.add_argument("--task", choices=["classification", "regression"], help="default: model.task")
    p.add_argument(
        "--prediction-column",
        metavar="COL",
        help="predicted class or value (default: estimation.prediction_column)",
    )
    p.add_argument(
        "--proba-prefix",
        metavar="PREFIX",
        help="class probability columns are PREFIX<class> (default: estimation.proba_prefix)",
    )
    _config_arg(p)
    _format_arg(p)
    p.add_argument(
        "--model", metavar="NAME", help="only this registered model (default: every kept model)"
    )

    p = sub.add_parser("config", help="config file commands")
    config_sub = p.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    pc = config_sub.add_parser(
        "check", help="validate and print the effective config (secrets redacted)"
    )
    _config_arg(pc)
    _format_arg(pc)

    p = sub.add_parser("hooks", help="MLflow registry webhooks")
    hooks_sub = p.add_subparsers(dest="hooks_command", metavar="SUBCOMMAND", required=True)
    ph = hooks_sub.add_parser(
        "install",
        help="register the daemon's MLflow webhook with the tracking server (idempotent)",
        description="Create or update the webhook named hooks.webhook_name on the MLflow "
        "tracking server: POST <hooks.public_url> on model_version.created and "
        "model_version_alias.created|deleted, signed with the secret in $<hooks.secret_env>.",
    )
    _config_arg(ph, required=True)

    p = sub.add_parser("outbox", help="the MLflow writes waiting in the outbox")
    outbox_sub = p.add_subparsers(dest="outbox_command", metavar="SUBCOMMAND", required=True)
    po = outbox_sub.add_parser(
        "retry",
        help="queue MLflow writes parked as dead again (all, or by key)",
        description="Queue writes parked after repeated failures again, with fresh attempts; "
        "the running daemon writes them on its next turn. Exit 1 when a KEY was not parked.",
    )
    _config_arg(po, required=True)
    po.add_argument("keys", nargs="*", metavar="KEY", help="outbox keys of parked writes")
    po.add_argument("--all", action="store_true", help="every parked write")
    return parser


def _resolve(name: str) -> Callable[[argparse.Namespace], int]:
    module_name, func_name = COMMANDS[name].split(":")
    module = importlib.import_module(module_name)
    func: Callable[[argparse.Namespace], int] = getattr(module, func_name)
    return func


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``driftwarden`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    name = args.command
    if name in _GROUPS:
        name = f"{name} {getattr(args, _GROUPS[name])}"
    setup_logging(args.log_level or "INFO", args.log_format or "text")
    try:
        return _resolve(name)(args)
    except DriftwardenError as exc:
        print(f"driftwarden {name}: {error_text(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug or a library's surprise: its traceback, secrets hidden,
        # indented like a traceback in the text log, so no line of it passes for another.
        trace = "".join(traceback.format_exception(exc)).rstrip("\n").split("\n")
        lines = [f"driftwarden {name}: unexpected error", *(f"  {line}" for line in trace)]
        print(printable_lines(lines), file=sys.stderr)
        return 1  # what Python's own handler would exit with


def error_text(exc: DriftwardenError) -> str:
    """The message with secrets hidden and control characters escaped. One line, except a
    ConfigError's deliberate one line per problem (whose values come quoted by ``repr``)."""
    lines = str(exc).split("\n") if isinstance(exc, ConfigError) else [str(exc)]
    return printable_lines(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
