"""Chi-square test of homogeneity for a categorical column (reference row vs current row).

Sparse categories are pooled the way the textbook rule asks (every expected count at
least 5) before ``scipy.stats.chi2_contingency`` runs; categories never seen in the
reference are reported and tested like any other (their reference count is 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import chi2_contingency

from driftwarden.detectors.effect import js_distance, psi

MIN_EXPECTED = 5.0
OTHER = "__other__"
_MAX_LISTED = 20


@dataclass
class Chi2Outcome:
    """Statistic, p-value, degrees of freedom, effect sizes and what was pooled."""

    statistic: float
    p_value: float
    dof: int
    effect_sizes: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)


def _pool(
    names: list[str], table: np.ndarray, max_categories: int
) -> tuple[list[str], np.ndarray, list[str]]:
    """Merge the rarest categories into one bin until every expected count is at least 5.

    Categories that stay keep their order (so an unpooled table is exactly the one a scipy
    user would build, and the statistic is bit-identical); the pooled bin comes last.
    """
    totals = table.sum(axis=0)
    rows = table.sum(axis=1)
    grand = rows.sum()
    by_size = [int(i) for i in np.argsort(-totals, kind="stable")]
    kept = by_size[: max_categories - 1] if len(by_size) > max_categories else list(by_size)
    pooled = [i for i in by_size if i not in set(kept)]

    def sparse(column_total: float) -> bool:
        return bool(rows.min() * column_total / grand < MIN_EXPECTED)

    # Fold the rarest kept category into the pooled bin while the pooled bin or the
    # rarest kept category is too sparse to test.
    while kept:
        pooled_total = float(totals[pooled].sum()) if pooled else None
        if not sparse(float(totals[kept[-1]])) and (
            pooled_total is None or not sparse(pooled_total)
        ):
            break
        if len(kept) == 1 and not pooled:
            break
        pooled.append(kept.pop())
    order = sorted(kept)
    columns = [table[:, i] for i in order]
    out_names = [names[i] for i in order]
    if pooled:
        columns.append(table[:, pooled].sum(axis=1))
        out_names.append(OTHER)
    return out_names, np.column_stack(columns), [names[i] for i in pooled]


def chi2_test(
    reference: dict[str, int], current: dict[str, int], max_categories: int
) -> Chi2Outcome:
    """Chi-square homogeneity test of two category-count maps, with JS distance and PSI.

    Args:
        reference: counts per category in the reference.
        current: counts per category in the current batch.
        max_categories: at most this many bins; the rarest categories share one.
    """
    names = sorted(set(reference) | set(current))
    table = np.array(
        [[reference.get(c, 0) for c in names], [current.get(c, 0) for c in names]],
        dtype=np.int64,
    )
    n_ref, n_cur = int(table[0].sum()), int(table[1].sum())
    p_ref, p_cur = table[0] / max(n_ref, 1), table[1] / max(n_cur, 1)
    effects = {"jensen_shannon": js_distance(p_ref, p_cur), "psi": psi(p_ref, p_cur)}
    new = [c for c in names if c not in reference]
    details: dict[str, Any] = {
        "categories": len(names),
        "new_categories": new[:_MAX_LISTED],
        "n_new_categories": len(new),
        "n_current_in_new_categories": int(sum(current[c] for c in new)),
    }
    pooled_names, pooled_table, pooled = _pool(names, table, max_categories)
    details["pooled_categories"] = len(pooled)
    details["bins"] = len(pooled_names)
    if pooled_table.shape[1] < 2:
        return Chi2Outcome(0.0, 1.0, 0, effects, details)
    result = chi2_contingency(pooled_table)
    return Chi2Outcome(
        float(result.statistic), float(result.pvalue), int(result.dof), effects, details
    )
