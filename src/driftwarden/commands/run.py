"""`driftwarden run`: the config and the environment it names are checked before the daemon
is imported.

A refused start (a missing reference, an unset secret variable, a bad path) answers in a
fraction of a second: the daemon's modules (pandas, the detectors, the MLflow client) take
about two seconds of CPU to import, and are imported only once the config can run.
"""

from __future__ import annotations

import argparse

from driftwarden.config import load_settings, resolve_config_path
from driftwarden.config.runnable import check_runnable
from driftwarden.errors import UsageError


def run_command(args: argparse.Namespace) -> int:
    """Entry of ``driftwarden run``: load and validate the config, then run until stopped."""
    config_path = resolve_config_path(args.config)
    if config_path is None:
        raise UsageError("run needs --config FILE (or DRIFTWARDEN_CONFIG)")
    settings = load_settings(config_path)
    check_runnable(settings, where=str(config_path))  # what `config check` refuses, run refuses
    from driftwarden.daemon.service.daemon import run_daemon

    return run_daemon(args, settings, config_path)
