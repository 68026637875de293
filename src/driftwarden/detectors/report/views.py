"""A result's views for notebooks: the HTML report, Jupyter's rich display, a DataFrame.

``driftwarden.check`` keeps references (no copies) to the data it checked on the result,
outside the dataclass fields, so ``result.to_html()`` and Jupyter's display can draw the
distributions while ``to_dict``/``to_json`` and equality stay about the numbers only. A
result rebuilt with ``from_dict`` has no data: its report has the tables, no charts.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from driftwarden.detectors.base import DriftResult
from driftwarden.detectors.report.labels import effect_measure
from driftwarden.detectors.report.page import ReportContext, render_fragment, render_html
from driftwarden.detectors.report.summaries import ReferenceSource

_DATA = "_driftwarden_report_data"
NOTEBOOK_MAX_PLOTS = 12
NOTEBOOK_MAX_TABLE_ROWS = 20

FRAME_COLUMNS = [
    "kind",
    "test",
    "statistic",
    "p_value",
    "p_value_corrected",
    "effect_measure",
    "effect_size",
    "effect_floor",
    "drifted",
    "method",
    "n_reference",
    "n_current",
    "n_dropped",
    "error",
]


def attach_data(result: DriftResult, reference: ReferenceSource, current: pd.DataFrame) -> None:
    """Remember the data a result came from (references only), for its report."""
    result.__dict__[_DATA] = (reference, current)


def attached_data(result: DriftResult) -> tuple[ReferenceSource | None, pd.DataFrame | None]:
    data = result.__dict__.get(_DATA)
    return (None, None) if data is None else data


def result_html(
    result: DriftResult,
    reference: ReferenceSource | None = None,
    current: pd.DataFrame | None = None,
    **context: Any,
) -> str:
    """``render_html`` with the data kept on the result unless other data is given."""
    kept_reference, kept_current = attached_data(result)
    return render_html(
        result,
        reference if reference is not None else kept_reference,
        current if current is not None else kept_current,
        **context,
    )


def result_repr_html(result: DriftResult) -> str:
    """The report as a fragment for Jupyter: scoped style, fewer charts and rows."""
    reference, current = attached_data(result)
    return render_fragment(
        result,
        reference,
        current,
        ReportContext(),
        max_plots=NOTEBOOK_MAX_PLOTS,
        max_table_rows=NOTEBOOK_MAX_TABLE_ROWS,
    )


def result_frame(result: DriftResult) -> pd.DataFrame:
    """One row per feature (index ``feature``, result order: drifted first) with the numbers,
    plus an ``effect.<measure>`` column per computed effect size."""
    measures = sorted({k for f in result.features for k in f.effect_sizes})
    rows = []
    for f in result.features:
        row: dict[str, Any] = {
            "feature": f.feature,
            **{name: getattr(f, name) for name in FRAME_COLUMNS},
        }
        row["effect_measure"] = effect_measure(f)
        for measure in measures:
            row[f"effect.{measure}"] = f.effect_sizes.get(measure)
        rows.append(row)
    columns = ["feature", *FRAME_COLUMNS, *(f"effect.{m}" for m in measures)]
    frame = pd.DataFrame(rows, columns=columns)
    numeric = [
        "statistic",
        "p_value",
        "p_value_corrected",
        "effect_size",
        "effect_floor",
        *(f"effect.{m}" for m in measures),
    ]
    frame[numeric] = frame[numeric].astype("float64")
    frame["drifted"] = frame["drifted"].astype(bool)
    return frame.set_index("feature")
