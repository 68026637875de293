"""The report page: summary, the feature table, findings, then the distributions.

Laid out after Evidently's data drift report: the verdict and the rule that decided on
top, a table of every feature with the drifted ones first, then a chart per feature.
Bounded for wide data: charts for the drifted features and the nearest misses only (at
most ``max_plots``, of which at most ``near_misses`` did not drift), table rows past
``max_table_rows`` folded away (no script needed),
and the page says how many were left out.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, fields
from datetime import UTC, datetime

import pandas as pd

from driftwarden.detectors.base import DriftResult, FeatureResult
from driftwarden.detectors.report.cards import feature_card
from driftwarden.detectors.report.labels import (
    decision_rule,
    display_effect,
    display_test,
    effect_measure,
    feature_verdict,
)
from driftwarden.detectors.report.numbers import (
    format_count,
    format_number,
    format_p,
    format_share,
)
from driftwarden.detectors.report.style import CSS, PAGE_CSS
from driftwarden.detectors.report.summaries import ReferenceSource
from driftwarden.detectors.report.svg import shorten

DEFAULT_MAX_PLOTS = 30
DEFAULT_NEAR_MISSES = 10  # charts for features that did not drift (each costs a sort)
DEFAULT_MAX_TABLE_ROWS = 60


@dataclass
class ReportContext:
    """What the result does not know about itself: which model, which file, when, where logged."""

    model_name: str | None = None
    model_version: str | int | None = None
    source: str | None = None
    reference_source: str | None = None
    checked_at: datetime | float | str | None = None
    run_url: str | None = None


def _text(value: object, limit: int = 500) -> str:
    return html.escape(shorten(str(value), limit))


def _when(value: datetime | float | str | None) -> tuple[str, str]:
    """(label, text) of the check time; without one, the time the report was rendered."""
    if value is None:
        return "Rendered", datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, UTC)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
            return "Checked at", value.strftime("%Y-%m-%d %H:%M:%S UTC")
        return "Checked at", value.strftime("%Y-%m-%d %H:%M:%S")
    return "Checked at", str(value)


def _run_link(url: str) -> str:
    """A link for http(s) URLs only (a ``javascript:`` URL stays text), escaped either way."""
    text = _text(url, 300)
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}">{text}</a>'
    return text


def _data_line(rows: int, version: str | None, source: str | None) -> str:
    parts = [f"{format_count(rows)} rows", f"version {_text(version or '–', 80)}"]
    if source:
        parts.insert(0, f"<b>{_text(source)}</b>")
    return " · ".join(parts)


# Fields the summary already shows; any other plain field (a newer dataset-level rule's
# statistic, say) is listed under its own name, so it is never silently missing.
_SHOWN_FIELDS = {
    "features",
    "dataset_drift",
    "drifted_features",
    "schema",
    "multivariate",
    "reference_version",
    "current_version",
    "n_reference",
    "n_current",
    "alpha",
    "correction",
    "drifted_share",
    "dataset_drift_share",
}


def _other_fields(result: DriftResult) -> list[tuple[str, str]]:
    rows = []
    for f in fields(result):
        value = getattr(result, f.name)
        if f.name in _SHOWN_FIELDS or not isinstance(value, str | int | float | bool):
            continue
        shown = format_number(value) if isinstance(value, float) else _text(value, 200)
        rows.append((html.escape(f.name.replace("_", " ").capitalize()), shown))
    return rows


def _summary(result: DriftResult, context: ReportContext, anchors: dict[str, str]) -> str:
    n_tested = sum(1 for f in result.features if f.error is None)
    drifted = len(result.drifted_features)
    if result.dataset_drift:
        banner = f"Dataset drift: {drifted} of {n_tested} tested features drifted"
    else:
        banner = f"No dataset drift: {drifted} of {n_tested} tested features drifted"
    model = _text(context.model_name) if context.model_name else "–"
    if context.model_version is not None:
        model += f" · version {_text(context.model_version, 80)}"
    label, when = _when(context.checked_at)
    facts = [
        ("Model", model),
        ("Data checked", _text(context.source) if context.source else "–"),
        (label, _text(when, 80)),
        (
            "Reference",
            _data_line(result.n_reference, result.reference_version, context.reference_source),
        ),
        ("Current", _data_line(result.n_current, result.current_version, None)),
        ("Decision rule", html.escape(decision_rule(result))),
        *_other_fields(result),
    ]
    if context.run_url:
        facts.append(("MLflow run", _run_link(context.run_url)))
    errors = len(result.schema_errors)
    if result.schema:
        warnings = len(result.schema) - errors
        facts.append(("Schema", f'<a href="#schema">{errors} error(s), {warnings} warning(s)</a>'))
    untested = len(result.features) - n_tested
    if untested:
        facts.append(("Not tested", f"{untested} feature(s) could not be tested (see the table)"))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    chips = ""
    if drifted:
        shown = [f for f in result.features if f.drifted][:DEFAULT_MAX_TABLE_ROWS]
        links = "".join(
            f'<a href="#{anchors.get(f.feature, "features")}">{_text(f.feature, 60)} · '
            f"{format_number(f.effect_size, 3)}</a>"
            for f in shown
        )
        more = drifted - len(shown)
        chips = (
            f'<div class="chips">Drifted (effect size): {links}'
            + (f" and {more} more" if more > 0 else "")
            + "</div>"
        )
    title = "Drift report" + (f": {_text(context.model_name, 200)}" if context.model_name else "")
    css = "drift" if result.dataset_drift else "ok"
    return (
        f"<h1>{title}</h1>"
        f'<div class="verdict {css}" id="summary">{banner} '
        f'({format_share(result.drifted_share)})</div><dl class="facts">{dl}</dl>{chips}'
    )


_HEADER = (
    '<tr><th class="l">feature</th><th class="l">type</th><th class="l">test</th>'
    "<th>statistic</th><th>p-value</th><th>corrected p</th><th>α</th>"
    '<th class="l">effect measure</th><th>effect size</th><th>floor</th>'
    '<th class="l">verdict</th><th class="l">note</th></tr>'
)


def _row(feature: FeatureResult, alpha: float, anchors: dict[str, str]) -> str:
    css, words = feature_verdict(feature, alpha)
    measure = effect_measure(feature)
    measure = "–" if measure is None and feature.effect_size is None else display_effect(measure)
    name = _text(feature.feature, 200)
    if feature.feature in anchors:
        name = f'<a href="#{anchors[feature.feature]}">{name}</a>'
    note = feature.error or feature.method or ""
    if feature.n_dropped:
        note = (note + "; " if note else "") + f"{format_count(feature.n_dropped)} missing"
    return (
        f'<tr class="{css}"><td class="l name">{name}</td><td class="l">{_text(feature.kind, 20)}</td>'
        f'<td class="l">{_text(display_test(feature.test), 60)}</td>'
        f"<td>{format_number(feature.statistic)}</td><td>{format_p(feature.p_value)}</td>"
        f"<td>{format_p(feature.p_value_corrected)}</td><td>{alpha:g}</td>"
        f'<td class="l">{_text(measure, 60)}</td>'
        f"<td>{format_number(feature.effect_size)}</td>"
        f"<td>{format_number(feature.effect_floor, 3)}</td>"
        f'<td class="l"><span class="badge {css}">{words}</span></td>'
        f'<td class="l note">{_text(note, 200)}</td></tr>'
    )


def _table(result: DriftResult, anchors: dict[str, str], max_rows: int) -> str:
    rows = [_row(f, result.alpha, anchors) for f in result.features]
    visible = max(max_rows, len(result.drifted_features))
    head = f'<table class="features">{_HEADER}{"".join(rows[:visible])}</table>'
    hidden = len(rows) - visible
    if hidden <= 0:
        return head
    return (
        head + f"<details><summary>{format_count(hidden)} more features (no drift)</summary>"
        f'<table class="features">{_HEADER}{"".join(rows[visible:])}</table></details>'
    )


def _schema(result: DriftResult) -> str:
    if not result.schema:
        return ""
    rows = "".join(
        f'<tr><td class="l name">{_text(s.column, 200)}</td><td class="l">{_text(s.severity, 20)}</td>'
        f'<td class="l">{_text(s.kind, 40)}</td><td class="l">{_text(s.message)}</td></tr>'
        for s in sorted(result.schema, key=lambda s: s.severity != "error")
    )
    return (
        '<h2 id="schema">Schema and data quality</h2><table class="features"><tr>'
        '<th class="l">column</th><th class="l">severity</th><th class="l">finding</th>'
        f'<th class="l">message</th></tr>{rows}</table>'
    )


def _multivariate(result: DriftResult) -> str:
    if not result.multivariate:
        return ""
    rows = "".join(
        f'<tr><td class="l">{_text(display_test(m.test), 60)}</td>'
        f"<td>{format_count(len(m.features))}</td><td>{format_number(m.statistic)}</td>"
        f"<td>{format_p(m.p_value)}</td><td>{result.alpha:g}</td>"
        f'<td class="l"><span class="badge {"drift" if m.drifted else "ok"}">'
        f"{'DRIFT' if m.drifted else 'ok'}</span></td>"
        f'<td class="l">{_text(m.error or m.method or "", 200)}</td></tr>'
        for m in result.multivariate
    )
    return (
        '<h2>Multivariate</h2><table class="features"><tr><th class="l">test</th><th>columns</th>'
        '<th>statistic</th><th>p-value</th><th>α</th><th class="l">verdict</th>'
        f'<th class="l">note</th></tr>{rows}</table>'
    )


def plotted_features(
    result: DriftResult, max_plots: int, near_misses: int = DEFAULT_NEAR_MISSES
) -> list[FeatureResult]:
    """The drifted features, then the nearest misses (smallest corrected p): ``max_plots`` at
    most, of which at most ``near_misses`` did not drift."""
    tested = [f for f in result.features if f.error is None]
    drifted = [f for f in tested if f.drifted]
    missed = sorted(
        (f for f in tested if not f.drifted),
        key=lambda f: 1.0 if f.p_value_corrected is None else f.p_value_corrected,
    )
    return (drifted + missed[: max(near_misses, 0)])[: max(max_plots, 0)]


def _distributions(
    result: DriftResult,
    plotted: list[FeatureResult],
    anchors: dict[str, str],
    reference: ReferenceSource | None,
    current: pd.DataFrame | None,
) -> str:
    if not plotted:
        return ""
    have_data = reference is not None and current is not None
    if have_data:
        assert reference is not None and current is not None
        in_reference = set(map(str, reference.columns))
        in_current = set(map(str, current.columns))
    cards = []
    for feature in plotted:
        ok = have_data and feature.feature in in_reference and feature.feature in in_current
        cards.append(
            feature_card(
                feature,
                anchors[feature.feature],
                result.alpha,
                reference if ok else None,
                current if ok else None,
            )
        )
    left_out = len(result.features) - len(plotted)
    note = (
        f"Charts for {len(plotted)} of {format_count(len(result.features))} features: the "
        "drifted ones, then "
        f"those closest to drifting; the other {format_count(left_out)} "
        f"{'is' if left_out == 1 else 'are'} in the table above."
        if left_out > 0
        else "Drifted features first, then by corrected p-value."
    )
    if not have_data:
        note += " The data was not passed to the report, so no distributions are drawn."
    return f'<h2 id="distributions">Distributions</h2><p class="lead">{note}</p>{"".join(cards)}'


def render_fragment(
    result: DriftResult,
    reference: ReferenceSource | None = None,
    current: pd.DataFrame | None = None,
    context: ReportContext | None = None,
    max_plots: int = DEFAULT_MAX_PLOTS,
    max_table_rows: int = DEFAULT_MAX_TABLE_ROWS,
    near_misses: int = DEFAULT_NEAR_MISSES,
) -> str:
    """The report as one ``<div class="dwr">`` with its own scoped style (for Jupyter)."""
    started = time.perf_counter()
    context = context or ReportContext()
    plotted = plotted_features(result, max_plots, near_misses)
    anchors = {f.feature: f"f{i}" for i, f in enumerate(plotted)}
    body = (
        _summary(result, context, anchors)
        + f'<h2 id="features">Features ({format_count(len(result.features))}), drifted first</h2>'
        + _table(result, anchors, max_table_rows)
        + _schema(result)
        + _multivariate(result)
        + _distributions(result, plotted, anchors, reference, current)
    )
    from driftwarden import __version__

    footer = (
        f"<footer>driftwarden {__version__} · rendered in "
        f"{time.perf_counter() - started:.2f} s</footer>"
    )
    return f'<div class="dwr"><style>{CSS}</style>{body}{footer}</div>'


def render_html(
    result: DriftResult,
    reference_frame: ReferenceSource | None = None,
    current_frame: pd.DataFrame | None = None,
    *,
    model_name: str | None = None,
    model_version: str | int | None = None,
    source: str | None = None,
    reference_source: str | None = None,
    checked_at: datetime | float | str | None = None,
    run_url: str | None = None,
    max_plots: int = DEFAULT_MAX_PLOTS,
    near_misses: int = DEFAULT_NEAR_MISSES,
    max_table_rows: int = DEFAULT_MAX_TABLE_ROWS,
) -> str:
    """The whole report as one self-contained HTML page (no I/O, no script, nothing fetched).

    Args:
        result: the check's result.
        reference_frame: the reference data, as a frame or the ``PreparedReference`` the
            check used (faster: its columns are already sorted). Without it, and without
            ``current_frame``, the page has no distribution charts.
        current_frame: the batch that was checked.
        model_name: the registered model the data feeds.
        model_version: its version (shown beside the name).
        source: the file or window that was checked (e.g. its path).
        reference_source: where the reference came from (a path or run).
        checked_at: when the check ran (a datetime, epoch seconds, or text); without it
            the page shows when it was rendered.
        run_url: the MLflow run the check was logged to; linked when it is http(s).
        max_plots: at most this many features get a chart (drifted first).
        near_misses: of those, at most this many that did not drift (the smallest
            corrected p-values): each chart costs a sort of the batch's column.
        max_table_rows: table rows shown before the rest are folded away (drifted rows
            are always shown).

    Returns:
        The page, starting with ``<!DOCTYPE html>``.
    """
    context = ReportContext(
        model_name, model_version, source, reference_source, checked_at, run_url
    )
    title = "driftwarden drift report" + (f": {_text(model_name, 200)}" if model_name else "")
    fragment = render_fragment(
        result, reference_frame, current_frame, context, max_plots, max_table_rows, near_misses
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{PAGE_CSS}</style></head><body>{fragment}</body></html>"
    )
