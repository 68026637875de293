"""Where things go: the state directory, the MLflow store, the experiments and their artifacts.

``mlflow.artifact_location`` applies only to experiments driftwarden creates: an experiment
that already exists (created earlier by ``validate`` elsewhere, by a person, by another
tool) keeps the artifact location it was created with. For a sqlite store the real location
is read straight from the database, read-only, without importing MLflow; for a server it is
not looked up (``config check`` contacts nothing) and the lines say so.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from driftwarden.config.load import redact_url
from driftwarden.config.model import Settings

_STATE_SOURCES = {
    "file": "state.directory in the config file",
    "systemd": "$STATE_DIRECTORY from systemd",
    "config-dir": "the default, beside the config file; under systemd $STATE_DIRECTORY replaces it",
    "working-dir": "no config file: commands that log to MLflow refuse to create it; "
    "pass --config FILE or set MLFLOW_TRACKING_URI",
}


@dataclass(frozen=True)
class ExperimentPlace:
    """One experiment and where its artifacts go (``exists`` None: not looked up)."""

    name: str
    exists: bool | None
    artifact_location: str | None


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for other stores)."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    return Path(tracking_uri.removeprefix("sqlite:///").partition("?")[0])


def existing_artifact_location(db: Path, experiment: str) -> tuple[bool | None, str | None]:
    """(exists, artifact location) of an active experiment in a sqlite MLflow store.

    (False, None) when there is no database yet or no such experiment; (None, None) when the
    file cannot be read as an MLflow store (locked, another format).
    """
    if not db.is_file():
        return False, None
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            row = conn.execute(
                "SELECT artifact_location FROM experiments "
                "WHERE name = ? AND lifecycle_stage = 'active'",
                (experiment,),
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None, None
    return (True, str(row[0])) if row is not None else (False, None)


def experiment_places(settings: Settings) -> list[ExperimentPlace]:
    """The experiments driftwarden writes to, each with where its artifacts really go."""
    names = [settings.mlflow.experiment_name]
    for model in settings.kept_models().values():  # each model may retrain elsewhere
        if model.retrain.enabled and model.retrain.experiment_name not in names:
            names.append(model.retrain.experiment_name)
    db = sqlite_path(settings.tracking_uri)
    places = []
    for name in names:
        if db is None:
            places.append(ExperimentPlace(name, None, None))
            continue
        exists, location = existing_artifact_location(db, name)
        places.append(ExperimentPlace(name, exists, location))
    return places


def describe(settings: Settings) -> list[str]:
    """Human-readable lines: where state, MLflow runs and artifacts go (secrets redacted)."""
    state = settings.state.directory
    lines = [
        "where things go:",
        f"  state directory: {state} ({_STATE_SOURCES[settings.state_source]})",
        "    ledger, outbox and reports waiting for MLflow"
        + (", and the default MLflow store" if sqlite_path(settings.tracking_uri) else ""),
        f"  MLflow tracking URI: {redact_url(settings.tracking_uri)}",
    ]
    if settings.mlflow.registry_uri:
        lines.append(f"  MLflow registry URI: {redact_url(settings.mlflow.registry_uri)}")
    configured = settings.mlflow.artifact_location
    for place in experiment_places(settings):
        lines.append(f"  experiment {place.name!r}: " + _experiment_text(place, configured))
    return lines


def _experiment_text(place: ExperimentPlace, configured: str | None) -> str:
    new_root = (
        f"artifacts under {redact_url(configured)}"
        if configured
        else "artifacts where the tracking server puts them"
    )
    if place.exists is None:
        return (
            "on a tracking server (not contacted): if it exists it keeps the artifact "
            f"location it was created with; if driftwarden creates it, {new_root}"
        )
    if not place.exists:
        return f"not created yet; driftwarden creates it with {new_root}"
    real = redact_url(place.artifact_location or "?")
    text = f"exists; its artifacts go to {real}"
    if (
        configured
        and place.artifact_location
        and not _same_place(place.artifact_location, configured)
    ):
        text += (
            f" (not to mlflow.artifact_location {redact_url(configured)}: that applies only "
            "to experiments driftwarden creates)"
        )
    return text


def _same_place(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")
