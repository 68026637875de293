"""``driftwarden outbox retry``: queue MLflow writes parked as dead again, for an operator.

A write is parked ('dead') after repeated failures that are not "MLflow unreachable" (a
read-only store, a server-side error, a bad payload). The daemon tries parked writes again
every few minutes by itself; once the cause is fixed, this command queues them (all, or
the named keys) at once, with fresh attempts, and the running daemon's writer takes them on
its next turn. Safe while the daemon runs: it only changes the rows' status.
"""

from __future__ import annotations

import argparse

from driftwarden.config import load_settings, resolve_config_path
from driftwarden.errors import UsageError
from driftwarden.logs import setup_logging
from driftwarden.outbox.queue import Outbox
from driftwarden.state import engine_for


def outbox_retry_command(args: argparse.Namespace) -> int:
    """Queue parked writes again; prints how many. Exit 0, or 1 when a named key was not parked."""
    config_path = resolve_config_path(args.config)
    if config_path is None:
        raise UsageError("outbox retry needs --config FILE (or DRIFTWARDEN_CONFIG)")
    keys: list[str] | None = None if args.all else list(args.keys)
    if keys == []:
        raise UsageError("outbox retry needs --all or one or more KEYs of parked writes")
    settings = load_settings(config_path)
    setup_logging(
        args.log_level or settings.logging.level, args.log_format or settings.logging.format
    )
    engine = engine_for(settings)
    if not engine.exists()["outbox"]:
        print("no outbox yet: nothing parked")
        return 0 if keys is None else 1
    outbox = Outbox(engine.outbox(), publish=lambda event: None)
    queued = outbox.revive(keys)
    print(f"queued {queued} parked MLflow write(s) again; {outbox.dead()} still parked")
    return 0 if keys is None or queued == len(set(keys)) else 1
