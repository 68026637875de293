"""``check_drift``: schema checks, one test per feature, correction, floors and the verdict.

Per-feature failures become a ``FeatureResult`` with ``error`` set; nothing a batch
contains makes this raise (only a missing optional extra does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import pandas as pd

from driftwarden.config.model import DriftConfig
from driftwarden.detectors.ad import ad_sorted
from driftwarden.detectors.base import (
    DriftResult,
    FeatureResult,
    MultivariateResult,
    SchemaFinding,
    category_counts,
    clean_numeric,
)
from driftwarden.detectors.chi2 import chi2_test
from driftwarden.detectors.columns_pool import map_columns
from driftwarden.detectors.cvm import cvm_sorted
from driftwarden.detectors.effect import binned_proportions, normalised_wasserstein, psi
from driftwarden.detectors.ks import ks_sorted
from driftwarden.detectors.prepared import (
    CategoricalColumn,
    NumericColumn,
    PreparedReference,
    sorted_values,
)
from driftwarden.detectors.schema import column_findings, frame_findings
from driftwarden.detectors.verdict import Verdict, decide, effect_measure
from driftwarden.errors import OptionalDependencyMissing


class TwoSampleOutcome(Protocol):
    """What a numeric test returns: statistic, p-value and how the p-value was computed."""

    @property
    def statistic(self) -> float: ...
    @property
    def p_value(self) -> float: ...
    @property
    def method(self) -> str: ...


# Numeric test name in the config -> the test on the sorted reference and the sorted batch
# (plug-ins by name; one module per test).
NUMERIC_TESTS: dict[str, Callable[[NumericColumn, np.ndarray], TwoSampleOutcome]] = {
    "ks": lambda column, current: ks_sorted(column.sorted, current, column.fence),
    "ad": lambda column, current: ad_sorted(column.sorted, current),
    "cvm": lambda column, current: cvm_sorted(column.sorted, current),
}


def numeric_feature(column: NumericColumn, series: pd.Series, cfg: DriftConfig) -> FeatureResult:
    """The configured numeric test (``cfg.numeric_test``) of one column with its effect sizes."""
    clean = clean_numeric(series)
    result = FeatureResult(
        column.name,
        cfg.numeric_test,
        "numeric",
        n_reference=int(column.sorted.size),
        n_current=int(clean.values.size),
        n_dropped=clean.n_dropped,
        details={"reference_dropped": column.n_dropped},
    )
    if column.sorted.size == 0:
        result.error = f"no finite values in the reference ({column.n_dropped} dropped)"
        return result
    if clean.values.size == 0:
        result.error = f"no finite values in the current batch ({clean.n_dropped} dropped)"
        return result
    current = sorted_values(clean)  # in place when cleaning made a copy
    outcome = NUMERIC_TESTS[cfg.numeric_test](column, current)
    result.statistic, result.p_value, result.method = (
        outcome.statistic,
        outcome.p_value,
        outcome.method,
    )
    result.effect_sizes = {
        "wasserstein": normalised_wasserstein(column.sorted, current, column.std, column.grid),
        "psi": psi(column.proportions, binned_proportions(current, column.edges)),
    }
    result.effect_size = result.effect_sizes[cfg.numeric_effect]
    return result


def chi2_feature(column: CategoricalColumn, series: pd.Series, cfg: DriftConfig) -> FeatureResult:
    """Chi-square test of one categorical column with its effect sizes."""
    counts, n_null = category_counts(series)
    result = FeatureResult(
        column.name,
        "chi2",
        "categorical",
        n_reference=sum(column.counts.values()),
        n_current=sum(counts.values()),
        n_dropped=n_null,
        details={"reference_dropped": column.n_dropped},
    )
    if result.n_reference == 0:
        result.error = f"no non-null values in the reference ({column.n_dropped} dropped)"
        return result
    if result.n_current == 0:
        result.error = f"no non-null values in the current batch ({n_null} dropped)"
        return result
    outcome = chi2_test(column.counts, counts, cfg.max_categories)
    result.statistic, result.p_value, result.method = (
        outcome.statistic,
        outcome.p_value,
        f"chi2(dof={outcome.dof})",
    )
    result.effect_sizes = outcome.effect_sizes
    result.effect_size = outcome.effect_sizes[cfg.categorical_effect]
    result.details.update(outcome.details)
    return result


# Categorical test name in the config -> implementation (plug-ins by name).
CATEGORICAL_TESTS: dict[
    str, Callable[[CategoricalColumn, pd.Series, DriftConfig], FeatureResult]
] = {"chi2": chi2_feature}


def _test_one(
    reference: PreparedReference, name: str, series: pd.Series, cfg: DriftConfig
) -> FeatureResult:
    numeric = reference.profiles[name].numeric
    try:
        column = reference.column(name)
        if isinstance(column, NumericColumn):
            return numeric_feature(column, series, cfg)
        return CATEGORICAL_TESTS[cfg.categorical_test](column, series, cfg)
    except Exception as exc:  # a bad column must not stop the other columns' tests
        return FeatureResult(
            name,
            cfg.numeric_test if numeric else cfg.categorical_test,
            "numeric" if numeric else "categorical",
            error=f"{type(exc).__name__}: {exc}",
        )


def _check_column(
    reference: PreparedReference, name: str, series: pd.Series, cfg: DriftConfig
) -> tuple[FeatureResult, list[SchemaFinding]]:
    """One column's whole share of a check (its schema findings and its test), on one thread."""
    profile = reference.profiles[name]
    findings = column_findings(name, profile, series, len(series), cfg.null_rate_tolerance)
    return _test_one(reference, name, series, cfg), findings


def _cost(reference: PreparedReference, name: str) -> int:
    """Relative cost of a column's test: counting text categories (hashing each value) and
    the chi-square's Python take longer than a numeric column's sort, so they start first."""
    return 1 if reference.profiles[name].numeric else 2


def _apply_verdicts(features: list[FeatureResult], cfg: DriftConfig, rows: int) -> Verdict:
    """Corrected p-values, thresholds and ``drifted`` per feature; the dataset verdict."""
    verdict = decide(features, cfg, rows)
    for feature, column in zip(features, verdict.columns, strict=True):
        if column is None:
            continue
        feature.p_value_corrected = column.p_value_corrected
        feature.threshold = column.threshold
        feature.effect_floor = column.effect_floor
        feature.effect_measure = effect_measure(cfg, feature.kind)
        feature.drifted = column.drifted
    return verdict


def _rank(feature: FeatureResult) -> tuple[bool, bool, float]:
    """Sort key: drifted first, then tested before failed, then by corrected p (0.0 first)."""
    p = feature.p_value_corrected
    return (not feature.drifted, feature.error is not None, 1.0 if p is None else p)


def _mmd(
    reference: PreparedReference, current: pd.DataFrame, cfg: DriftConfig
) -> MultivariateResult:
    from driftwarden.detectors.mmd import mmd_test

    names = [n for n in reference.tested if reference.profiles[n].numeric and n in current.columns]
    ref_frame = reference.numeric_frame()
    try:
        if ref_frame is not None:
            ref_values = ref_frame[names].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        else:
            ref_values = reference.mmd_sample(names)
        cur_values = current[names].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        return mmd_test(ref_values, cur_values, names, cfg.mmd, cfg.alpha)
    except OptionalDependencyMissing:
        raise
    except Exception as exc:
        return MultivariateResult("mmd", names, error=f"{type(exc).__name__}: {exc}")


def check_drift(
    reference: PreparedReference,
    current: pd.DataFrame,
    cfg: DriftConfig,
    current_version: str | None = None,
    workers: int | None = None,
) -> DriftResult:
    """Test a batch against a prepared reference.

    Args:
        reference: from ``PreparedReference.from_frame`` (or ``one_shot``).
        current: the batch.
        cfg: the ``[drift]`` settings (alpha, correction, floors, dataset rule, MMD).
        current_version: the batch's data version, copied into the result.
        workers: threads for the per-column tests (default: the cores this process may
            use); the result is the same for any count.

    Returns:
        One ``DriftResult``: schema findings, a ``FeatureResult`` per tested column present
        in the batch (drifted first, then by corrected p-value), the dataset verdict.

    Raises:
        OptionalDependencyMissing: MMD is enabled but torch is not installed.
    """
    ignored = {reference.target} if reference.target else set()
    duplicated = sorted({str(c) for c in current.columns[current.columns.duplicated()]})
    if duplicated:
        current = current.loc[:, ~current.columns.duplicated()]
    present = set(current.columns)
    batch = [(name, current[name]) for name in reference.tested if name in present]
    rows = len(current) + (reference.n_rows if reference.lazy else 0)
    checked = map_columns(
        lambda item: _check_column(reference, item[0], item[1], cfg),
        batch,
        values=rows * len(batch),
        workers=workers,
        cost=lambda item: _cost(reference, item[0]),
    )
    features = [feature for feature, _ in checked]
    schema = [
        *(
            SchemaFinding(
                c, "duplicate_column", "error", "column appears more than once; the first is tested"
            )
            for c in duplicated
        ),
        *reference.findings,
        *frame_findings(reference.columns, current, ignored),
        *(finding for _, findings in checked for finding in findings),
    ]
    verdict = _apply_verdicts(features, cfg, len(current))
    sources = [features[i].feature for i in verdict.likely_sources]
    features.sort(key=_rank)
    multivariate = [_mmd(reference, current, cfg)] if cfg.mmd.enabled else []
    drifted = [f.feature for f in features if f.drifted]
    reason = verdict.reason
    if reason is None and any(m.drifted for m in multivariate):
        reason = "multivariate"
    return DriftResult(
        features=features,
        dataset_drift=reason is not None,
        drifted_features=drifted,
        schema=schema,
        multivariate=multivariate,
        reference_version=reference.data_version,
        current_version=current_version,
        n_reference=reference.n_rows,
        n_current=len(current),
        alpha=cfg.alpha,
        correction=cfg.correction,
        drifted_share=verdict.drifted_share,
        dataset_drift_share=cfg.dataset_drift_share,
        dataset_rule=cfg.dataset_rule,
        dataset_p_value=verdict.combined_p_value,
        dataset_drift_reason=reason,
        likely_sources=sources,
    )


def check_frames(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    cfg: DriftConfig,
    target: str | None = None,
    reference_version: str | None = None,
    current_version: str | None = None,
    workers: int | None = None,
) -> DriftResult:
    """One-shot check of two frames; prepares the reference column by column, keeping nothing."""
    prepared = PreparedReference.one_shot(reference, cfg, target, reference_version)
    return check_drift(prepared, current, cfg, current_version, workers)
