"""Paths in the config file are relative to the file's directory: made absolute once, here."""

from __future__ import annotations

from pathlib import Path

from driftwarden.config.model import EstimationConfig, ReferenceConfig, RetrainConfig, WatchConfig


def absolute(path: Path, base: Path) -> Path:
    """``path`` with ``~`` expanded, relative to ``base`` unless absolute already."""
    path = path.expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def resolve_model_paths(
    watch: WatchConfig, reference: ReferenceConfig, retrain: RetrainConfig, base: Path
) -> None:
    """Make the paths of one model's sections absolute (in place); absolute ones stay as they are.

    A local ``retrain.project_uri`` that exists becomes absolute too (a git URI is left alone).
    """
    watch.paths = [absolute(p, base) for p in watch.paths]
    for name in ("processed_dir", "quarantine_dir"):
        value = getattr(watch, name)
        if value is not None:
            setattr(watch, name, absolute(value, base))
    if reference.path is not None:
        reference.path = absolute(reference.path, base)
    if retrain.project_uri and "://" not in retrain.project_uri:
        local = absolute(Path(retrain.project_uri), base)
        if local.exists():
            retrain.project_uri = str(local)


def resolve_estimation_path(estimation: EstimationConfig, base: Path) -> None:
    """Make ``estimation.reference`` absolute when it names a file (``"model"`` stays)."""
    if estimation.reference_path is not None:
        estimation.reference = str(absolute(estimation.reference_path, base))
