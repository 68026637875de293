"""`register`, `retrain` and `rollback`: the config and the model choice are checked before the
modules that do the work are imported.

A refusal (two kept models and no ``--model``, a bad config) answers in a fraction of a
second; the work's modules (MLflow, pandas, the remediation cycle) cost 3-6 s of CPU to
import. `validate` does the same in ``commands/validate.py``.
"""

from __future__ import annotations

import argparse

from driftwarden.config import load_settings
from driftwarden.config.load import require_explicit_store
from driftwarden.config.model import Settings
from driftwarden.config.models import one_model
from driftwarden.errors import MlflowUnavailable
from driftwarden.logs import setup_logging
from driftwarden.progress import with_progress

# Exit codes of `driftwarden retrain` by outcome; MLflow unreachable is 3 whatever the outcome.
RETRAIN_EXIT_CODES: dict[str, int] = {
    "promoted": 0,
    "rejected": 0,
    "failed": 1,
    "skipped_cooldown": 1,
    "skipped_running": 1,
}


def model_settings(args: argparse.Namespace, needs_store: bool = True) -> Settings:
    """The settings narrowed to the one model the command acts on, with logging set up.

    Every command that acts on one model starts here (``check`` and ``validate`` too). With
    ``needs_store``, a default store nobody chose is refused here, before MLflow is imported
    (``configure_mlflow`` would refuse it too, seconds later).
    """
    settings = one_model(load_settings(args.config), getattr(args, "model", None))
    setup_logging(
        args.log_level or settings.logging.level, args.log_format or settings.logging.format
    )
    if needs_store:
        require_explicit_store(settings)
    return settings


def register_command(args: argparse.Namespace) -> int:
    """``driftwarden register``: 0 done, 1 no run qualifies, 2 bad usage or config, 3 MLflow down."""
    settings = model_settings(args)
    from driftwarden.tracking.register import register_from_args

    for line in register_from_args(args, settings):
        print(line)
    return 0


def retrain_command(args: argparse.Namespace) -> int:
    """``driftwarden retrain``: one cycle by hand (cooldown and single flight apply); prints the
    decision as one line.

    Exit 0 when a decision was made (promoted or rejected), 1 when no decision was made
    (the run failed or timed out, no usable data, cooldown, another cycle running),
    2 for a bad config, 3 when MLflow was unreachable. The cycle is recorded in the ledger
    like the daemon's own.
    """
    settings = model_settings(args)
    from driftwarden.remediation.cycle import run_cycle

    decision = with_progress(
        "retrain cycle (training run, gate)", run_cycle, settings, args.reason, trigger="manual"
    )
    print(decision.summary())
    if decision.error == "MlflowUnavailable":
        return MlflowUnavailable.exit_code
    return RETRAIN_EXIT_CODES[decision.outcome]


def rollback_command(args: argparse.Namespace) -> int:
    """``driftwarden rollback``: print one line; exit 0, 2 (nothing to roll back to), 3 (MLflow down)."""
    settings = model_settings(args)
    from driftwarden.remediation.rollback import rollback
    from driftwarden.tracking.client import configure_mlflow

    client = configure_mlflow(settings)
    result = rollback(client, settings, getattr(args, "to_version", None), args.reason)
    print(
        f"rolled back model {result.model!r} alias {result.alias!r}:"
        f" v{result.from_version or '-'} -> v{result.to_version} ({result.reason})"
    )
    return 0
