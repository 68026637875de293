"""The reference side, prepared once: sorted numeric columns, category counts, a schema profile.

A daemon checks many batches against one reference, so everything that depends only on
the reference (sorting 1M values, counting categories) is done here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftwarden.config.model import DriftConfig
from driftwarden.detectors.base import (
    CleanNumeric,
    SchemaFinding,
    category_counts,
    clean_numeric,
    is_numeric_column,
    null_count,
)
from driftwarden.detectors.columns_pool import map_columns
from driftwarden.detectors.effect import (
    EXACT_WASSERSTEIN_MAX,
    binned_proportions,
    psi_edges,
    quantile_grid,
    robust_std,
)
from driftwarden.detectors.ks import make_fence
from driftwarden.detectors.schema import ColumnProfile, dtype_family


@dataclass
class NumericColumn:
    """A numeric reference column: sorted finite values and what effect sizes need."""

    name: str
    sorted: np.ndarray
    std: float
    grid: np.ndarray | None
    edges: np.ndarray
    proportions: np.ndarray
    n_dropped: int
    fence: np.ndarray | None = None


@dataclass
class CategoricalColumn:
    """A categorical reference column: counts per category."""

    name: str
    counts: dict[str, int]
    n_dropped: int


PreparedColumn = NumericColumn | CategoricalColumn


def prepare_column(series: pd.Series, numeric: bool) -> PreparedColumn:
    """Prepare one reference column for repeated tests."""
    name = str(series.name)
    if not numeric:
        counts, n_null = category_counts(series)
        return CategoricalColumn(name, counts, n_null)
    clean = clean_numeric(series)
    return numeric_column(name, sorted_values(clean), clean.n_dropped)


def sorted_values(clean: CleanNumeric) -> np.ndarray:
    """The values sorted: in place when cleaning made them (nobody else sees the array),
    else into a new array, so the caller's column is never reordered."""
    if clean.private:
        clean.values.sort()
        return clean.values
    return np.sort(clean.values)


def numeric_column(name: str, values: np.ndarray, n_dropped: int) -> NumericColumn:
    """A numeric reference column from its sorted finite values (what every test needs)."""
    if values.size == 0:
        empty = np.empty(0)
        return NumericColumn(name, values, 0.0, None, empty, np.ones(1), n_dropped)
    edges = psi_edges(values)
    grid = quantile_grid(values) if values.size > EXACT_WASSERSTEIN_MAX // 2 else None
    return NumericColumn(
        name,
        values,
        robust_std(values),
        grid,
        edges,
        binned_proportions(values, edges),
        n_dropped,
        make_fence(values),
    )


def tested_columns(
    columns: list[str], cfg: DriftConfig, target: str | None
) -> tuple[list[str], list[SchemaFinding]]:
    """The columns to test (config order) and findings for configured columns that do not exist."""
    findings: list[SchemaFinding] = []
    excluded = set(cfg.exclude_columns) | ({target} if target else set())
    if cfg.columns is None:
        return [c for c in columns if c not in excluded], findings
    present = set(columns)
    for column in cfg.columns:
        if column not in present:
            findings.append(
                SchemaFinding(
                    column,
                    "missing_column",
                    "error",
                    "column listed in drift.columns is missing from the reference",
                )
            )
    return [c for c in cfg.columns if c in present and c not in excluded], findings


def drop_datetimes(tested: list[str], families: Mapping[str, str]) -> list[SchemaFinding]:
    """Take the datetime columns out of ``tested`` (in place), with a finding for each."""
    findings = []
    for name in [n for n in tested if families[n] == "datetime"]:
        tested.remove(name)
        findings.append(
            SchemaFinding(
                name,
                "untested_column",
                "warning",
                "datetime column is not tested for drift (every batch has new timestamps)",
            )
        )
    return findings


class PreparedReference:
    """A reference data set, prepared once and reused by every ``check_drift`` call."""

    def __init__(
        self,
        columns: list[str],
        tested: list[str],
        profiles: dict[str, ColumnProfile],
        findings: list[SchemaFinding],
        n_rows: int,
        target: str | None,
        data_version: str | None,
        prepared: dict[str, PreparedColumn],
        frame: pd.DataFrame | None = None,
        mmd_rows: pd.DataFrame | None = None,
    ) -> None:
        self.columns = columns
        self.tested = tested
        self.profiles = profiles
        self.findings = findings
        self.n_rows = n_rows
        self.target = target
        self.data_version = data_version
        self._prepared = prepared
        self._frame = frame  # only for the one-shot form, which prepares lazily
        # The tested columns of that frame, taken once here: worker threads then read a
        # dict instead of indexing the frame.
        self._sources = {name: frame[name] for name in tested} if frame is not None else {}
        self._mmd_rows = mmd_rows  # a bounded row sample, when MMD is on

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        cfg: DriftConfig,
        target: str | None = None,
        data_version: str | None = None,
        workers: int | None = None,
    ) -> PreparedReference:
        """Sort every numeric column and count every categorical one, once.

        Args:
            frame: the reference data.
            cfg: the ``[drift]`` settings (columns, exclusions, categorical overrides).
            target: the label column, never tested.
            data_version: the reference's data version, copied into every result.
            workers: threads for preparing columns (default: the cores this process may use).
        """
        reference = cls._profile(frame, cfg, target, data_version, lazy=False)
        sources = [(frame[name], reference.profiles[name].numeric) for name in reference.tested]
        columns = map_columns(
            lambda source: prepare_column(*source),
            sources,
            values=len(frame) * len(sources),
            workers=workers,
        )
        reference._prepared.update(zip(reference.tested, columns, strict=True))
        if cfg.mmd.enabled:
            names = [n for n in reference.tested if reference.profiles[n].numeric]
            sample = frame[names]
            if len(sample) > cfg.mmd.max_samples:
                sample = sample.sample(n=cfg.mmd.max_samples, random_state=cfg.mmd.seed)
            reference._mmd_rows = sample.apply(pd.to_numeric, errors="coerce")
        return reference

    @classmethod
    def one_shot(
        cls,
        frame: pd.DataFrame,
        cfg: DriftConfig,
        target: str | None = None,
        data_version: str | None = None,
    ) -> PreparedReference:
        """A reference that prepares each column when it is tested and keeps nothing.

        For a single check (the ``check`` command): peak memory stays at one column's
        worth instead of a sorted copy of the whole reference.
        """
        return cls._profile(frame, cfg, target, data_version, lazy=True)

    @classmethod
    def _profile(
        cls,
        frame: pd.DataFrame,
        cfg: DriftConfig,
        target: str | None,
        data_version: str | None,
        lazy: bool,
    ) -> PreparedReference:
        columns = [str(c) for c in frame.columns]
        tested, findings = tested_columns(columns, cfg, target)
        findings += drop_datetimes(tested, {name: dtype_family(frame[name]) for name in tested})
        forced = set(cfg.categorical_columns or [])
        profiles: dict[str, ColumnProfile] = {}
        for name in tested:
            series = frame[name]
            rate = null_count(series) / len(series) if len(series) else 0.0
            profiles[name] = ColumnProfile(
                dtype_family(series), is_numeric_column(series, forced), rate
            )
        return cls(
            columns,
            tested,
            profiles,
            findings,
            len(frame),
            target,
            data_version,
            {},
            frame if lazy else None,
        )

    @property
    def lazy(self) -> bool:
        """True for the one-shot form: each column is prepared when it is tested."""
        return self._frame is not None

    @property
    def prepared_columns(self) -> dict[str, PreparedColumn]:
        """The columns prepared ahead (empty for the one-shot form), by name."""
        return dict(self._prepared)

    @property
    def mmd_rows(self) -> pd.DataFrame | None:
        """The reference row sample kept for MMD, when it was prepared with MMD on."""
        return self._mmd_rows

    def column(self, name: str) -> PreparedColumn:
        """The prepared column (prepared now, and not kept, for a one-shot reference)."""
        prepared = self._prepared.get(name)
        if prepared is not None:
            return prepared
        source = self._sources.get(name)
        if source is None:
            raise KeyError(name)
        return prepare_column(source, self.profiles[name].numeric)

    def numeric_frame(self) -> pd.DataFrame | None:
        """The tested numeric columns of the reference, when the frame is still at hand."""
        names = [n for n in self.tested if self.profiles[n].numeric]
        if self._frame is not None:
            return self._frame[names]
        return None

    def mmd_sample(self, names: list[str]) -> np.ndarray:
        """The reference rows kept for MMD (at most ``mmd.max_samples``), these columns."""
        if self._mmd_rows is None:
            raise ValueError("the reference was prepared with drift.mmd.enabled = false")
        return self._mmd_rows[names].to_numpy(np.float64)
