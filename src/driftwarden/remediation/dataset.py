"""Assemble the retrain training set and the gate's holdout from the reference and recent labelled drops.

The rule (also in the README):

1. Labelled drops are data files that contain the target column (``model.target``). The
   daemon passes the ones it processed; ``driftwarden retrain`` looks in the watch paths'
   processed folders (``watch.processed_dir``, else ``<path>/processed``; the watch paths
   themselves too when ``watch.on_success = "keep"``) for files matching
   ``watch.patterns``. The ``retrain.recent_files`` newest by modification time are used;
   unreadable files and files without the target column are skipped with a warning, as
   are rows whose label is missing.
2. The drops are stacked oldest file first, rows in file order, so the last rows are the
   newest. The newest ``ceil(retrain.holdout_fraction × n)`` of the ``n`` labelled rows form
   the holdout: the champion and the challenger are scored on it and the challenger never
   trains on it.
3. The training set is the remaining labelled rows (the newest ``retrain.max_rows`` of them
   at most) plus rows of the reference data (the production model's logged training data,
   or ``reference.path`` when ``reference.source = "file"``). Reference rows identical to a
   holdout row are removed first. When labelled training rows exist, reference rows make up
   at most ``retrain.reference_share`` of the training set; with no labelled training rows
   the reference alone is used. The whole set is capped at ``retrain.max_rows``; reference
   rows beyond a cap are a seeded random sample (same inputs, same set).
4. Columns are those of the reference (else of the newest drop); a drop lacking one of
   them is skipped with a warning naming the file and the column, extra columns are dropped.

Both frames are written as CSV under ``<state>/remediation/cycles/<cycle_id>/``.
"""

from __future__ import annotations

import fnmatch
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from driftwarden.config.model import RetrainConfig, Settings
from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version
from driftwarden.errors import InputFileError

log = logging.getLogger(__name__)

SAMPLE_SEED = 0


@dataclass
class TrainingSet:
    """The assembled frames, where they were written, and what went into them."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    train_path: Path | None = None
    holdout_path: Path | None = None
    labelled_files: list[Path] = field(default_factory=list)
    skipped_files: dict[str, str] = field(default_factory=dict)
    reference_rows: int = 0
    labelled_train_rows: int = 0

    @property
    def train_version(self) -> str:
        return data_version(self.train)

    @property
    def holdout_version(self) -> str:
        return data_version(self.holdout)

    def summary(self) -> dict[str, object]:
        """Plain numbers and names for tags, logs and the decision."""
        return {
            "training_rows": len(self.train),
            "holdout_rows": len(self.holdout),
            "reference_rows": self.reference_rows,
            "labelled_train_rows": self.labelled_train_rows,
            "labelled_files": [str(p) for p in self.labelled_files],
            "skipped_files": dict(self.skipped_files),
        }


def labelled_candidates(settings: Settings) -> list[Path]:
    """Files in the watch paths' processed folders that match the patterns, newest first."""
    folders: list[Path] = []
    for watched in settings.watch.paths:
        folders.append(settings.watch.processed_dir or watched / "processed")
        if settings.watch.on_success == "keep":
            folders.append(watched)
    seen: set[Path] = set()
    found: list[tuple[float, Path]] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path in seen or not path.is_file() or path.is_symlink():
                continue
            if any(
                fnmatch.fnmatch(path.name, pat.split("/")[-1]) for pat in settings.watch.patterns
            ):
                seen.add(path)
                found.append((path.stat().st_mtime, path))
    found.sort(key=lambda item: (item[0], str(item[1])), reverse=True)
    return [path for _, path in found]


def read_labelled(
    paths: Sequence[Path], target: str, recent: int, max_bytes: int | None = None
) -> tuple[list[tuple[Path, pd.DataFrame]], dict[str, str]]:
    """The ``recent`` newest readable files holding ``target``, oldest first, and the skipped ones."""
    ordered = sorted((Path(p) for p in paths), key=lambda p: (_mtime(p), str(p)), reverse=True)
    chosen: list[tuple[Path, pd.DataFrame]] = []
    skipped: dict[str, str] = {}
    for path in ordered:
        if len(chosen) >= recent:
            break
        try:
            frame = read_frame(path, max_bytes=max_bytes)
        except InputFileError as exc:
            skipped[str(path)] = exc.reason
            log.warning(
                "retrain: skipping unreadable labelled file",
                extra={"file": str(path), "reason": exc.reason},
            )
            continue
        if target not in frame.columns:
            skipped[str(path)] = f"no target column {target!r}"
            continue
        frame = frame[frame[target].notna()]
        if len(frame) == 0:
            skipped[str(path)] = f"no rows with a label in {target!r}"
            continue
        chosen.append((path, frame))
    chosen.reverse()
    return chosen, skipped


def assemble(
    reference: pd.DataFrame | None,
    labelled: Sequence[tuple[Path, pd.DataFrame]],
    target: str,
    cfg: RetrainConfig,
    skipped: dict[str, str] | None = None,
) -> TrainingSet:
    """Apply the module's rule to frames already read; pure (no I/O)."""
    skipped = dict(skipped or {})
    if reference is not None and target not in reference.columns:
        raise InputFileError("reference data", f"has no target column {target!r}", field=target)
    columns: list[str] | None = list(reference.columns) if reference is not None else None
    if columns is None and labelled:
        columns = list(labelled[-1][1].columns)
    parts: list[pd.DataFrame] = []
    used: list[Path] = []
    for path, frame in labelled:
        assert columns is not None
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            skipped[str(path)] = f"missing column {missing[0]!r} (expected the reference's columns)"
            log.warning(
                "retrain: skipping labelled file without a reference column",
                extra={"file": str(path), "column": missing[0]},
            )
            continue
        parts.append(frame[columns])
        used.append(path)
    stacked = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns or [target])
    )
    n = len(stacked)
    n_holdout = min(n, math.ceil(cfg.holdout_fraction * n)) if n else 0
    holdout = stacked.iloc[n - n_holdout :].reset_index(drop=True)
    labelled_train = stacked.iloc[: n - n_holdout]
    labelled_train = labelled_train.iloc[max(0, len(labelled_train) - cfg.max_rows) :]

    ref_rows = pd.DataFrame(columns=stacked.columns)
    if reference is not None and len(reference):
        ref = reference[columns] if columns else reference
        if len(holdout):
            ref = ref[~_row_hashes(ref).isin(set(_row_hashes(holdout)))]
        room = cfg.max_rows - len(labelled_train)
        if len(labelled_train) and cfg.reference_share < 1:
            share_cap = math.floor(
                cfg.reference_share / (1 - cfg.reference_share) * len(labelled_train)
            )
            room = min(room, share_cap)
        room = max(0, room)
        if len(ref) > room:
            rng = np.random.default_rng(SAMPLE_SEED)
            keep = np.sort(rng.choice(len(ref), size=room, replace=False))
            ref = ref.iloc[keep]
        ref_rows = ref
    frames = [f for f in (ref_rows, labelled_train) if len(f)]
    train = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=stacked.columns)
    )
    return TrainingSet(
        train=train,
        holdout=holdout,
        labelled_files=used,
        skipped_files=skipped,
        reference_rows=len(ref_rows),
        labelled_train_rows=len(labelled_train),
    )


def write(training: TrainingSet, directory: Path) -> TrainingSet:
    """Write ``training.csv`` and ``holdout.csv`` into ``directory`` and record their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    training.train_path = directory / "training.csv"
    training.holdout_path = directory / "holdout.csv"
    training.train.to_csv(training.train_path, index=False)
    training.holdout.to_csv(training.holdout_path, index=False)
    return training


def _row_hashes(frame: pd.DataFrame) -> pd.Series:
    return pd.util.hash_pandas_object(frame.astype(str), index=False)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
