"""``driftwarden hooks install``: register the daemon's MLflow webhook (idempotent)."""

from __future__ import annotations

import argparse

from driftwarden.config import load_settings
from driftwarden.config.load import redact_url
from driftwarden.logs import setup_logging
from driftwarden.tracking.webhook_install import install_from_settings


def hooks_install_command(args: argparse.Namespace) -> int:
    """Create or update the webhook; exit 2 (config: a local store, no secret), 3 (server down)."""
    settings = load_settings(args.config)
    setup_logging(
        args.log_level or settings.logging.level, args.log_format or settings.logging.format
    )
    result = install_from_settings(settings)
    detail = f" ({', '.join(result.changed)} changed)" if result.changed else ""
    extra = (
        f"; removed {result.removed_duplicates} duplicate(s)" if result.removed_duplicates else ""
    )
    print(
        f"webhook {result.name!r} {result.action}{detail}{extra}: id {result.webhook_id}, "
        f"POST {redact_url(result.url)} on {', '.join(result.events)}"
    )
    return 0
