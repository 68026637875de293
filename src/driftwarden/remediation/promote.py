"""Move the production alias (and the legacy stage when configured), leaving a history in version tags.

Every promotion tags the new version with ``driftwarden.previous_version`` (the version the
alias pointed at before) and ``driftwarden.promoted_at``; ``rollback`` follows those tags.
Tags are written before the alias moves, so a crash in between loses no history. The daemon
notices the alias move through its registry watcher, the same way as a person's promotion.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from driftwarden.config.model import Settings
from driftwarden.tracking.registry import (
    get_version_by_alias,
    set_alias,
    tag_version,
    transition_stage,
)

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

PREVIOUS_VERSION_TAG = "driftwarden.previous_version"
PROMOTED_AT_TAG = "driftwarden.promoted_at"
PROMOTED_BY_TAG = "driftwarden.promoted_by"


def utc_stamp(now: float | None = None) -> str:
    """ISO 8601 UTC, second precision (tags are strings)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now is None else now))


def current_version(client: MlflowClient, settings: Settings) -> str | None:
    """The version the production alias points at now, or None."""
    version = get_version_by_alias(client, settings.model.name, settings.model.alias)
    return None if version is None else str(version.version)


def move_alias(
    client: MlflowClient,
    settings: Settings,
    version: str,
    previous: str | None,
    by: str,
    tags: Mapping[str, str] | None = None,
    record_previous: bool = True,
) -> None:
    """Point ``model.alias`` at ``version`` (and transition ``model.stage`` when set).

    ``by`` says who moved it (``retrain <cycle>``, ``rollback``); ``tags`` are added to
    the version together with the history tags. A rollback passes
    ``record_previous=False`` so the target keeps its own ``previous_version`` and a second
    rollback goes one step further back instead of toggling.
    """
    name = settings.model.name
    history = {PROMOTED_AT_TAG: utc_stamp(), PROMOTED_BY_TAG: by}
    if record_previous:
        history[PREVIOUS_VERSION_TAG] = previous or ""
    tag_version(client, name, version, {**history, **dict(tags or {})})
    set_alias(client, name, settings.model.alias, version)
    if settings.model.stage:
        transition_stage(client, name, version, settings.model.stage)
