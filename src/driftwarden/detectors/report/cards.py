"""One card per plotted feature: verdict, the numbers that decided, the chart, a side table."""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from driftwarden.detectors.base import FeatureResult, category_counts
from driftwarden.detectors.report.labels import feature_verdict, why
from driftwarden.detectors.report.numbers import format_count, format_share
from driftwarden.detectors.report.summaries import (
    QUANTILES,
    CategoricalSummary,
    NumericSummary,
    ReferenceSource,
    current_sample,
    reference_categories,
    reference_sample,
    summarise_categorical,
    summarise_numeric,
)
from driftwarden.detectors.report.svg import (
    CURRENT_COLOUR,
    REFERENCE_COLOUR,
    bars_svg,
    histogram_svg,
    shorten,
)

_NEW_LISTED = 5


def format_value(value: float, whole: bool = False) -> str:
    """A data value with at least four significant digits (``12.35``, ``0.0001235``, ``1,046,021``)."""
    if not math.isfinite(value):
        return "–"
    if whole and float(value).is_integer() and abs(value) < 1e15:
        return f"{value:,.0f}"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e9 or magnitude < 1e-5:
        return f"{value:.3e}"
    decimals = max(0, 3 - math.floor(math.log10(magnitude)))
    return f"{value:,.{decimals}f}"


def _signed(value: float, whole: bool) -> str:
    text = format_value(value, whole)
    return text if text.startswith(("-", "–")) or value == 0 else "+" + text


def legend(n_reference: int, n_current: int) -> str:
    return (
        '<div class="legend">'
        f'<span class="sw" style="background:{REFERENCE_COLOUR}"></span>reference '
        f"({format_count(n_reference)} values)"
        f'<span class="sw" style="background:{CURRENT_COLOUR}"></span>current '
        f"({format_count(n_current)} values)</div>"
    )


def _numeric_side(summary: NumericSummary) -> str:
    whole = summary.integer_bins
    rows = []
    for (label, _), ref, cur in zip(
        QUANTILES, summary.reference_quantiles, summary.current_quantiles, strict=True
    ):
        ref_f, cur_f = float(ref), float(cur)
        with np.errstate(over="ignore"):
            change = cur_f - ref_f
        rows.append(
            f"<tr><th>{label}</th><td>{format_value(ref_f, whole)}</td>"
            f"<td>{format_value(cur_f, whole)}</td><td>{_signed(change, whole)}</td></tr>"
        )
    change = summary.current_mean - summary.reference_mean
    rows.append(
        f"<tr><th>mean</th><td>{format_value(summary.reference_mean)}</td>"
        f"<td>{format_value(summary.current_mean)}</td><td>{_signed(change, False)}</td></tr>"
        f"<tr><th>missing</th><td>{format_count(summary.reference_dropped)}</td>"
        f"<td>{format_count(summary.current_dropped)}</td><td></td></tr>"
    )
    note = ""
    if summary.reference_outside or summary.current_outside:
        note = (
            '<p class="note">Axis: 0.5%–99.5% of both samples; beyond it (in the end bins): '
            f"reference {format_share(summary.reference_outside)}, "
            f"current {format_share(summary.current_outside)}.</p>"
        )
    return (
        '<div class="side"><table class="q"><tr><th></th><th>reference</th><th>current</th>'
        f"<th>change</th></tr>{''.join(rows)}</table>{note}</div>"
    )


def _names(names: list[str]) -> str:
    shown = ", ".join(html.escape(shorten(n, 40)) for n in names[:_NEW_LISTED])
    more = len(names) - _NEW_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _categorical_side(summary: CategoricalSummary) -> str:
    rows = [
        "<tr><th>categories</th>"
        f"<td>{format_count(summary.n_categories[0])}</td>"
        f"<td>{format_count(summary.n_categories[1])}</td></tr>",
        f"<tr><th>missing</th><td>{format_count(summary.reference_dropped)}</td>"
        f"<td>{format_count(summary.current_dropped)}</td></tr>",
    ]
    notes = []
    if summary.new:
        notes.append(f"New in current: {_names(summary.new)}.")
    if summary.gone:
        notes.append(f"Absent from current: {_names(summary.gone)}.")
    note = f'<p class="note">{" ".join(notes)}</p>' if notes else ""
    return (
        '<div class="side"><table class="q"><tr><th></th><th>reference</th><th>current</th></tr>'
        f"{''.join(rows)}</table>{note}</div>"
    )


def _plot(feature: FeatureResult, reference: ReferenceSource, current: pd.DataFrame) -> str:
    name = feature.feature
    if feature.kind == "numeric":
        ref = reference_sample(reference, name)
        numeric = summarise_numeric(ref, current_sample(current[name])) if ref else None
        if numeric is None:
            return '<p class="note">No finite values to plot.</p>'
        return (
            f'<div class="chart">{histogram_svg(numeric, name)}'
            f"{legend(numeric.n_reference, numeric.n_current)}</div>{_numeric_side(numeric)}"
        )
    counts = reference_categories(reference, name)
    categorical = summarise_categorical(counts, category_counts(current[name])) if counts else None
    if categorical is None:
        return '<p class="note">No values to plot.</p>'
    return (
        f'<div class="chart">{bars_svg(categorical, name)}'
        f"{legend(categorical.n_reference, categorical.n_current)}</div>"
        f"{_categorical_side(categorical)}"
    )


def plot_block(feature: FeatureResult, reference: ReferenceSource, current: pd.DataFrame) -> str:
    """The chart and side table; a failure costs this plot only, never the report."""
    try:
        return _plot(feature, reference, current)
    except Exception as exc:  # a plot must never cost the report (or the daemon its file)
        return f'<p class="note">plot unavailable ({html.escape(type(exc).__name__)})</p>'


def feature_card(
    feature: FeatureResult,
    anchor: str,
    alpha: float,
    reference: ReferenceSource | None,
    current: pd.DataFrame | None,
) -> str:
    """A feature's card; the heading starts with its name (``<h3>name``)."""
    css, words = feature_verdict(feature, alpha)
    body = ""
    if feature.error is None and reference is not None and current is not None:
        body = f'<div class="plot">{plot_block(feature, reference, current)}</div>'
    return (
        f'<section class="card {css}" id="{anchor}">'
        f"<h3>{html.escape(shorten(feature.feature, 200))} "
        f'<span class="badge {css}">{words}</span> '
        f'<span class="kind">{html.escape(feature.kind)}</span></h3>'
        f'<p class="why">{html.escape(why(feature, alpha))}</p>{body}</section>'
    )
