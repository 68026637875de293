"""Words for the numbers: test and effect-measure names, each feature's verdict, the rules.

Unknown test or measure names (a plug-in added later) are shown as they are, so a new
test appears in the report without a change here.
"""

from __future__ import annotations

import math

from driftwarden.detectors.base import DriftResult, FeatureResult
from driftwarden.detectors.report.numbers import format_number, format_p

TEST_NAMES = {
    "ks": "Kolmogorov–Smirnov",
    "chi2": "chi-square",
    "ad": "Anderson–Darling",
    "anderson_darling": "Anderson–Darling",
    "cvm": "Cramér–von Mises",
    "cramer_von_mises": "Cramér–von Mises",
    "mmd": "MMD",
}
EFFECT_NAMES = {
    "wasserstein": "Wasserstein / ref. sd",
    "psi": "PSI",
    "jensen_shannon": "Jensen–Shannon distance",
}
CORRECTION_NAMES = {
    "none": "no correction",
    "bonferroni": "Bonferroni",
    "holm": "Holm",
    "bh": "Benjamini–Hochberg",
    "by": "Benjamini–Yekutieli",
}


def display_test(test: str) -> str:
    return TEST_NAMES.get(test, test)


def display_effect(measure: str | None) -> str:
    return "effect size" if measure is None else EFFECT_NAMES.get(measure, measure)


def display_correction(correction: str) -> str:
    return CORRECTION_NAMES.get(correction, correction)


def effect_measure(feature: FeatureResult) -> str | None:
    """The measure ``effect_size`` holds; for results written before it was recorded, the
    computed measure with the same value (None when that is ambiguous)."""
    if feature.effect_measure is not None:
        return feature.effect_measure
    if feature.effect_size is None:
        return None
    same = [k for k, v in feature.effect_sizes.items() if v == feature.effect_size]
    return same[0] if len(same) == 1 else None


Verdict = tuple[str, str]  # (css class, words)


def feature_verdict(feature: FeatureResult, alpha: float) -> Verdict:
    """Why a feature got its verdict, in a few words (significant but small says so)."""
    if feature.error is not None:
        return "err", "not tested"
    if feature.drifted:
        return "drift", "DRIFT"
    p = feature.p_value_corrected
    if p is not None and p < alpha:
        return "small", "ok · effect below floor"
    return "ok", "ok"


def decision_rule(result: DriftResult) -> str:
    """The per-feature and the dataset-level rule, as one plain sentence each."""
    floors: dict[str, set[str]] = {}
    for feature in result.features:
        if feature.effect_floor is not None:
            key = f"{display_effect(effect_measure(feature))} ≥ {feature.effect_floor:g}"
            floors.setdefault(feature.kind, set()).add(key)
    floor_text = "; ".join(f"{kind}: {', '.join(sorted(v))}" for kind, v in sorted(floors.items()))
    feature_rule = (
        f"A feature drifts when its p-value after {display_correction(result.correction)} "
        f"correction is below α = {result.alpha:g}"
        + (f" and its effect size reaches the floor ({floor_text})." if floor_text else ".")
    )
    if result.dataset_drift_share > 0:
        dataset_rule = (
            "The dataset drifts when at least "
            f"{result.dataset_drift_share:.0%} of the tested features drift"
        )
    else:
        dataset_rule = "The dataset drifts when any feature drifts"
    if result.multivariate:
        tests = ", ".join(sorted({display_test(m.test) for m in result.multivariate}))
        dataset_rule += f", or when the multivariate test ({tests}) does"
    return f"{feature_rule} {dataset_rule}."


def why(feature: FeatureResult, alpha: float) -> str:
    """The numbers that decided, as text (plain; escape before writing HTML)."""
    if feature.error is not None:
        return f"not tested: {feature.error}"
    p_corr = feature.p_value_corrected
    significant = p_corr is not None and p_corr < alpha
    parts = [
        f"{display_test(feature.test)} statistic {format_number(feature.statistic)}",
        f"p {format_p(feature.p_value)}",
        f"corrected p {format_p(p_corr)} {'<' if significant else '≥'} α {alpha:g}",
    ]
    effect = feature.effect_size
    if effect is not None and math.isfinite(effect):
        text = f"{display_effect(effect_measure(feature))} {format_number(effect)}"
        if feature.effect_floor is not None:
            reached = effect >= feature.effect_floor
            text += f" {'≥' if reached else '<'} floor {feature.effect_floor:g}"
        parts.append(text)
    return " · ".join(parts)
