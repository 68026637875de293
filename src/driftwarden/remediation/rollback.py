"""``driftwarden rollback``: point the production alias back at the previous (or a named) version.

"Previous" is the ``driftwarden.previous_version`` tag that the promotion of the current
version left; without it, the highest version below the current one that was ever promoted
(has ``driftwarden.promoted_at``). A rollback does not rewrite the target's own history tag,
so rolling back twice walks two steps back. Why and by whom is recorded in tags on both
versions; the daemon's registry watcher then loads the target like any other alias move.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from driftwarden.config.model import Settings
from driftwarden.errors import UsageError
from driftwarden.remediation.promote import (
    PREVIOUS_VERSION_TAG,
    PROMOTED_AT_TAG,
    current_version,
    move_alias,
    utc_stamp,
)
from driftwarden.tracking.client import unavailable_or_raise
from driftwarden.tracking.registry import get_version, tag_version

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RollbackResult:
    """Where the alias pointed before and after."""

    model: str
    alias: str
    from_version: str | None
    to_version: str
    reason: str


def previous_version(client: MlflowClient, settings: Settings, current: str) -> str | None:
    """The version to roll back to from ``current`` (see the module docstring)."""
    name = settings.model.name
    tagged = client.get_model_version(name, current).tags.get(PREVIOUS_VERSION_TAG)
    if tagged:
        return str(tagged)
    older = [
        mv
        for mv in client.search_model_versions(f"name='{name}'")
        if int(mv.version) < int(current) and PROMOTED_AT_TAG in (mv.tags or {})
    ]
    if not older:
        return None
    return str(max(int(mv.version) for mv in older))


def rollback(
    client: MlflowClient,
    settings: Settings,
    to_version: int | str | None = None,
    reason: str = "manual rollback",
) -> RollbackResult:
    """Move the alias back; ``UsageError`` when there is nothing to roll back to."""
    from mlflow.exceptions import MlflowException

    name, alias = settings.model.name, settings.model.alias
    try:
        current = current_version(client, settings)
        if to_version is not None:
            target = str(to_version)
            if get_version(client, name, target) is None:
                raise UsageError(f"model {name!r} has no version {target}")
        else:
            if current is None:
                raise UsageError(
                    f"model {name!r} has no version under alias {alias!r}; pass --to-version N"
                )
            found = previous_version(client, settings, current)
            if found is None:
                raise UsageError(
                    f"model {name!r} v{current}: no previous production version is known"
                    " (no driftwarden.previous_version tag, no older promoted version);"
                    " pass --to-version N"
                )
            target = found
        if target == current:
            raise UsageError(f"model {name!r}: alias {alias!r} already points at v{target}")
        stamp = utc_stamp()
        move_alias(
            client,
            settings,
            target,
            current,
            by="rollback",
            tags={
                "driftwarden.rollback_from": current or "",
                "driftwarden.rollback_reason": reason,
                "driftwarden.rollback_at": stamp,
            },
            record_previous=False,
        )
        if current is not None:
            tag_version(
                client,
                name,
                current,
                {
                    "driftwarden.rolled_back_at": stamp,
                    "driftwarden.rolled_back_to": target,
                    "driftwarden.rollback_reason": reason,
                },
            )
    except MlflowException as exc:
        raise unavailable_or_raise(exc) from exc
    result = RollbackResult(name, alias, current, target, reason)
    log.info(
        "rolled back",
        extra={"model": name, "alias": alias, "from_version": current, "to_version": target},
    )
    return result
