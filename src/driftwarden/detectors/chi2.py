"""Chi-square test of homogeneity for a categorical column (reference row vs current row).

Sparse categories are pooled the way the textbook rule asks (every expected count at
least 5) before the test; categories never seen in the reference are reported and tested
like any other (their reference count is 0). The statistic and p-value are
``scipy.stats.chi2_contingency``'s, computed with its own steps (``expected_freq``, the Yates
correction at one degree of freedom, the Pearson sum, ``chdtrc``) without the generic
wrappers that cost it a couple of milliseconds per column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import chdtrc
from scipy.stats.contingency import expected_freq

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


def pearson_chi2(observed: np.ndarray) -> tuple[float, float, int]:
    """``chi2_contingency(observed)``'s statistic, p-value and degrees of freedom.

    The same arithmetic in the same order (scipy's own ``expected_freq``, the Yates
    correction when there is one degree of freedom, the flat sum of the Pearson terms, the
    chi-square survival function), so the numbers are scipy's to the last bit; the tests
    hold it to ``chi2_contingency`` itself.
    """
    expected = expected_freq(observed)
    if np.any(expected == 0):
        raise ValueError("the table of expected frequencies has a zero element")
    dof = expected.size - sum(expected.shape) + expected.ndim - 1
    if dof == 0:
        return 0.0, 1.0, 0
    values = observed.astype(np.float64)
    if dof == 1:
        diff = expected - values
        values = values + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    terms = ((values - expected) ** 2 / expected).ravel()
    statistic = terms.sum()
    return float(statistic), float(chdtrc(float(dof), statistic)), int(dof)


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
    statistic, p_value, dof = pearson_chi2(pooled_table)
    return Chi2Outcome(statistic, p_value, dof, effects, details)
