"""A self-contained HTML drift report: summary, schema findings, one plot per feature.

Inline SVG and CSS only, so the file opens anywhere (an MLflow artifact view, an email)
without fetching anything. Drifted features come first, as in the result.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from driftwarden.detectors.base import DriftResult, FeatureResult

_W, _H, _PAD = 360, 140, 18
_REF, _CUR = "#4c78a8", "#e45756"
_BINS = 30
_TOP_CATEGORIES = 12

_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 16px}
td,th{border:1px solid #ddd;padding:4px 8px;font-size:13px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}
.drift{color:#b00020;font-weight:bold}.ok{color:#1b7f3b}
.feature{display:inline-block;vertical-align:top;margin:8px;padding:8px;border:1px solid #eee}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
"""


def format_number(value: float | None, digits: int = 4, missing: str = "–") -> str:
    """A statistic for people: fixed digits, scientific when tiny or huge, ``missing`` for none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return missing
    if value != 0 and abs(value) < 10**-digits:
        return f"{value:.2e}"
    if abs(value) >= 1e6:
        return f"{value:.{digits}g}"  # 1e+308, not 309 digits
    return f"{value:.{digits}f}"


def _bars(ref: np.ndarray, cur: np.ndarray, labels: list[str] | None = None) -> str:
    """Two overlaid bar series (shares) as one SVG."""
    k = len(ref)
    top = max(float(ref.max(initial=0)), float(cur.max(initial=0)), 1e-12)
    width = (_W - 2 * _PAD) / max(k, 1)
    parts = [
        f'<svg width="{_W}" height="{_H + (30 if labels else 0)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i in range(k):
        x = _PAD + i * width
        for j, (series, colour) in enumerate(((ref, _REF), (cur, _CUR))):
            h = (_H - 2 * _PAD) * float(series[i]) / top
            bar_x = x + j * width / 2 if labels else x
            bar_w = width / 2 if labels else width
            parts.append(
                f'<rect x="{bar_x:.1f}" y="{_H - _PAD - h:.1f}" width="{max(bar_w - 0.5, 0.5):.1f}" '
                f'height="{h:.1f}" fill="{colour}" fill-opacity="{0.85 if labels else 0.45}"/>'
            )
        if labels:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{_H - _PAD + 12}" font-size="9" '
                f'text-anchor="end" transform="rotate(-35 {x + width / 2:.1f} {_H - _PAD + 12})">'
                f"{html.escape(labels[i][:14])}</text>"
            )
    parts.append(
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#999"/></svg>'
    )
    return "".join(parts)


def _numeric_plot(ref: pd.Series, cur: pd.Series) -> str:
    r = pd.to_numeric(ref, errors="coerce").to_numpy(np.float64)
    c = pd.to_numeric(cur, errors="coerce").to_numpy(np.float64)
    r, c = r[np.isfinite(r)], c[np.isfinite(c)]
    if r.size == 0 or c.size == 0:
        return "<p>no finite values to plot</p>"
    # Bin in units of the largest magnitude: with values near ±1e308, hi - lo overflows to inf.
    scale = max(float(np.abs(r).max()), float(np.abs(c).max()), 1.0)
    r, c = r / scale, c / scale
    both = np.concatenate([r[:: max(1, r.size // 100_000)], c])
    lo, hi = (float(q) for q in np.quantile(both, [0.005, 0.995]))
    if not lo < hi:
        lo, hi = float(both.min()) - 0.5, float(both.max()) + 0.5
    edges = np.linspace(lo, hi, _BINS + 1)
    share_r = np.histogram(np.clip(r, lo, hi), edges)[0] / r.size
    share_c = np.histogram(np.clip(c, lo, hi), edges)[0] / c.size
    axis = (
        f'<div style="font-size:11px;color:#666">'
        f"{format_number(lo * scale, 3)} … {format_number(hi * scale, 3)}</div>"
    )
    return _bars(share_r, share_c) + axis


def _categorical_plot(ref: pd.Series, cur: pd.Series) -> str:
    r = ref.dropna().astype(str).value_counts(normalize=True)
    c = cur.dropna().astype(str).value_counts(normalize=True)
    names = list((r.add(c, fill_value=0)).sort_values(ascending=False).index[:_TOP_CATEGORIES])
    return _bars(
        np.array([r.get(n, 0.0) for n in names]), np.array([c.get(n, 0.0) for n in names]), names
    )


def _feature_block(
    feature: FeatureResult, reference: pd.DataFrame | None, current: pd.DataFrame | None
) -> str:
    status = '<span class="drift">DRIFT</span>' if feature.drifted else '<span class="ok">ok</span>'
    head = (
        f"<h3>{html.escape(feature.feature)} {status}</h3>"
        f"<div>{html.escape(feature.test)} statistic {format_number(feature.statistic)}, "
        f"p {format_number(feature.p_value)} (corrected {format_number(feature.p_value_corrected)}), "
        f"effect {format_number(feature.effect_size)}</div>"
    )
    if feature.error:
        return f'<div class="feature">{head}<p>{html.escape(feature.error)}</p></div>'
    plot = ""
    if (
        reference is not None
        and current is not None
        and feature.feature in reference.columns
        and feature.feature in current.columns
    ):
        ref, cur = reference[feature.feature], current[feature.feature]
        try:
            plot = (
                _numeric_plot(ref, cur)
                if feature.kind == "numeric"
                else _categorical_plot(ref, cur)
            )
        except Exception as exc:  # a plot must never cost the report (or the daemon its file)
            plot = f"<p>plot unavailable ({html.escape(type(exc).__name__)})</p>"
    return f'<div class="feature">{head}{plot}</div>'


def render_html(
    result: DriftResult,
    reference_frame: pd.DataFrame | None = None,
    current_frame: pd.DataFrame | None = None,
) -> str:
    """The whole report as one HTML string (no I/O; plots need the frames, else are skipped)."""
    verdict = (
        '<span class="drift">DRIFT</span>'
        if result.dataset_drift
        else '<span class="ok">no drift</span>'
    )
    rows = "".join(
        f"<tr><td class='l'>{html.escape(f.feature)}</td><td class='l'>{f.test}</td>"
        f"<td>{format_number(f.statistic)}</td><td>{format_number(f.p_value)}</td><td>{format_number(f.p_value_corrected)}</td>"
        f"<td>{format_number(f.effect_size)}</td><td class='l'>{'yes' if f.drifted else 'no'}</td>"
        f"<td class='l'>{html.escape(f.error or f.method or '')}</td></tr>"
        for f in result.features
    )
    schema = "".join(
        f"<tr><td class='l'>{html.escape(s.column)}</td><td class='l'>{s.severity}</td>"
        f"<td class='l'>{html.escape(s.kind)}</td><td class='l'>{html.escape(s.message)}</td></tr>"
        for s in result.schema
    )
    multi = "".join(
        f"<tr><td class='l'>{m.test}</td><td>{format_number(m.statistic)}</td><td>{format_number(m.p_value)}</td>"
        f"<td class='l'>{'yes' if m.drifted else 'no'}</td><td class='l'>{html.escape(m.error or '')}</td></tr>"
        for m in result.multivariate
    )
    blocks = "".join(_feature_block(f, reference_frame, current_frame) for f in result.features)
    legend = (
        f'<div class="legend"><span style="background:{_REF}"></span>reference'
        f'<span style="background:{_CUR}"></span>current</div>'
    )
    rule = (
        "any drifted feature"
        if result.dataset_drift_share == 0
        else f"drifted share ≥ {result.dataset_drift_share:.1%}"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>driftwarden drift report</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Drift report: {verdict}</h1>"
        f"<p>{len(result.drifted_features)} of {len(result.features)} features drifted "
        f"(share {result.drifted_share:.1%}; dataset drift on {rule}); "
        f"alpha {result.alpha} after {html.escape(result.correction)} correction.<br>"
        f"reference: {result.n_reference} rows, version {html.escape(str(result.reference_version))}; "
        f"current: {result.n_current} rows, version {html.escape(str(result.current_version))}</p>"
        "<table><tr><th class='l'>feature</th><th class='l'>test</th><th>statistic</th><th>p-value</th>"
        "<th>corrected p</th><th>effect size</th><th class='l'>drifted</th><th class='l'>method / error</th></tr>"
        f"{rows}</table>"
        + (
            "<h2>Schema and data quality</h2><table><tr><th class='l'>column</th><th class='l'>severity</th>"
            f"<th class='l'>kind</th><th class='l'>message</th></tr>{schema}</table>"
            if schema
            else ""
        )
        + (
            "<h2>Multivariate</h2><table><tr><th class='l'>test</th><th>statistic</th><th>p-value</th>"
            f"<th class='l'>drifted</th><th class='l'>error</th></tr>{multi}</table>"
            if multi
            else ""
        )
        + f"<h2>Distributions</h2>{legend}{blocks}</body></html>"
    )
