"""From per-column p-values and effect sizes to per-column verdicts and the dataset verdict.

A pure function of the tested columns and the ``[drift]`` settings, so the detection
benchmark can judge many rule settings on one set of test results. ``check_drift``
writes its answer into the result record.

Per column: the corrected p-value below ``alpha`` and the effect size at or above the
floor. The dataset: ``dataset_rule = "features"`` fires when enough columns drifted
(``dataset_drift_share``); ``"cauchy"`` and ``"harmonic_mean"`` also fire when all
columns' p-values combined (``combination``) fall below ``alpha`` and one of the columns
that carry that evidence has an effect at or above its floor. When that happens without
any single column passing, those columns are named as the likely source.

Both thresholds may depend on the batch size: ``alpha`` shrinks as ``1/sqrt(rows)``
beyond ``alpha_reference_rows`` (so huge batches need proportionally stronger evidence,
Good's standardized p-value), and the effect floors apply from ``effect_floor_min_rows``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from driftwarden.config.model import DriftConfig
from driftwarden.detectors.base import FeatureResult
from driftwarden.detectors.combination import combine, likely_sources
from driftwarden.detectors.correction import correct


def batch_alpha(cfg: DriftConfig, rows: int) -> float:
    """The significance level for a batch of ``rows`` rows."""
    reference_rows = cfg.alpha_reference_rows
    if reference_rows is None or rows <= reference_rows:
        return cfg.alpha
    return cfg.alpha * math.sqrt(reference_rows / rows)


def effect_floor(cfg: DriftConfig, kind: str, rows: int) -> float:
    """The effect-size floor for a column of this kind in a batch of ``rows`` rows."""
    if rows < cfg.effect_floor_min_rows:
        return 0.0
    return cfg.effect_size_floor if kind == "numeric" else cfg.categorical_effect_size_floor


def effect_measure(cfg: DriftConfig, kind: str) -> str:
    """Which effect size the floor applies to for this kind of column."""
    return cfg.numeric_effect if kind == "numeric" else cfg.categorical_effect


@dataclass(frozen=True)
class ColumnVerdict:
    """One tested column: corrected p-value, the thresholds it was held to, the verdict."""

    p_value_corrected: float
    threshold: float
    effect_floor: float
    drifted: bool


@dataclass(frozen=True)
class Verdict:
    """Per-column verdicts (aligned with the input; None for untested) and the dataset's.

    ``reason``: ``features`` (enough columns drifted on their own), ``combined`` (only the
    combined p-value fired; ``likely_sources`` names the columns behind it), or None.
    """

    columns: list[ColumnVerdict | None]
    drifted: list[int]
    drifted_share: float
    dataset_drift: bool
    reason: str | None
    combined_p_value: float | None = None
    likely_sources: list[int] = field(default_factory=list)


def decide(features: Sequence[FeatureResult], cfg: DriftConfig, rows: int) -> Verdict:
    """Verdicts for the tested features of a batch of ``rows`` rows.

    Args:
        features: one result per column; those with an error or no p-value are untested.
        cfg: the ``[drift]`` settings.
        rows: the batch's row count (for the size-dependent alpha and floors).
    """
    alpha = batch_alpha(cfg, rows)
    tested = [i for i, f in enumerate(features) if f.error is None and f.p_value is not None]
    p_values = [float(features[i].p_value) for i in tested]  # type: ignore[arg-type]
    corrected = correct(p_values, cfg.correction)
    columns: list[ColumnVerdict | None] = [None] * len(features)
    floors: dict[int, float] = {}
    drifted: list[int] = []
    for i, p_corr in zip(tested, corrected, strict=True):
        floors[i] = effect_floor(cfg, features[i].kind, rows)
        passes = bool(p_corr < alpha and _effect(features[i]) >= floors[i])
        columns[i] = ColumnVerdict(float(p_corr), alpha, floors[i], passes)
        if passes:
            drifted.append(i)
    share = len(drifted) / len(tested) if tested else 0.0
    if drifted and share >= cfg.dataset_drift_share:
        reason: str | None = "features"
    else:
        reason = None
    if cfg.dataset_rule == "features":
        return Verdict(columns, drifted, share, reason is not None, reason)
    combined = combine(p_values, cfg.dataset_rule)
    sources: list[int] = []
    if reason is None and combined < alpha:
        found = [tested[j] for j in likely_sources(p_values, cfg.dataset_rule, alpha)]
        if any(_effect(features[i]) >= floors[i] for i in found):
            reason, sources = "combined", found
    return Verdict(columns, drifted, share, reason is not None, reason, combined, sources)


def _effect(feature: FeatureResult) -> float:
    return feature.effect_size if feature.effect_size is not None else 0.0
