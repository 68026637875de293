"""The HTML report: self-contained, escaped, drifted first, readable charts, bounded in size."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from driftwarden.config.model import DriftConfig
from driftwarden.detectors import DriftResult, FeatureResult, PreparedReference, check_frames
from driftwarden.detectors.report import render_html
from driftwarden.detectors.report.numbers import format_p, nice_ticks, tick_label
from driftwarden.detectors.report.page import DEFAULT_MAX_PLOTS, DEFAULT_NEAR_MISSES
from driftwarden.detectors.report.summaries import (
    QUANTILES,
    Sample,
    summarise_categorical,
    summarise_numeric,
)
from driftwarden.detectors.report.svg import HIST_W, bars_svg, histogram_svg
from tests.detectors.report_data import CONTEXT, HOSTILE, HOSTILE_CATEGORY, drifting_frames
from tests.support.html_page import read_page
from tests.support.hypothesis_profiles import examples

# Every element the report may contain: anything else came from data that escaped escaping.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "div", "h1", "h2", "h3", "p", "span",
    "dl", "dt", "dd", "a", "b", "table", "tr", "th", "td", "section", "details", "summary",
    "footer", "svg", "line", "text", "tspan", "path", "rect",
}  # fmt: skip


def test_report_is_self_contained_with_a_plot_per_feature() -> None:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(
        {
            "steady": rng.normal(size=800),
            "moved": rng.normal(size=800),
            "c": rng.choice(["x", "<y>"], 800),
        }
    )
    cur = pd.DataFrame(
        {
            "steady": rng.normal(size=400),
            "moved": rng.normal(2, size=400),
            "c": rng.choice(["x", "<y>"], 400),
        }
    )
    result = check_frames(ref, cur, DriftConfig())
    page = render_html(result, ref, cur)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 3
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page and "<script" not in page
    assert "src=" not in page and "@import" not in page and "url(" not in page  # fetches nothing
    assert page.index("<h3>moved") < page.index("<h3>steady")
    assert "&lt;y&gt;" in page and "<y>" not in page  # category names are escaped


def test_values_near_the_float_limits_are_plotted() -> None:
    """±1e308: hi - lo would overflow to inf and break the bin edges without scaling."""
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    cur = pd.DataFrame(
        {"a": np.resize([1e308, -1e308, 3.0, -1.7e308], 200), "b": rng.normal(size=200)}
    )
    result = check_frames(ref, cur, DriftConfig())
    page = render_html(result, ref, cur)
    assert page.count("<svg") == 2 and "plot unavailable" not in page
    assert ">-1.7e+308</text>" in page  # the axis shows the real range
    assert "nan" not in page.lower() and "inf<" not in page


def test_a_failing_plot_costs_only_that_plot(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake fault (no real input still breaks a plot once the overflow above is fixed):
    the report is still written, naming the plot as unavailable."""
    from driftwarden.detectors.report import cards

    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"x": rng.normal(size=100), "c": rng.choice(["u", "v"], 100)})
    cur = pd.DataFrame({"x": rng.normal(size=100), "c": rng.choice(["u", "v"], 100)})
    result = check_frames(ref, cur, DriftConfig())

    def broken(*args: object) -> str:
        raise ValueError("bins must increase monotonically")

    monkeypatch.setattr(cards, "histogram_svg", broken)
    page = render_html(result, ref, cur)
    assert page.count("plot unavailable (ValueError)") == 1
    assert page.count("<svg") == 1  # the categorical plot is still there
    assert page.endswith("</body></html>")


# --- the summary -------------------------------------------------------------------------


def test_summary_names_model_version_file_time_data_and_run() -> None:
    ref, cur = drifting_frames()
    result = check_frames(
        ref, cur, DriftConfig(), reference_version="r-9f2c", current_version="c-77"
    )
    text = read_page(render_html(result, ref, cur, **CONTEXT)).text
    summary = text.split("Features (4)")[0]
    assert "Dataset drift: 3 of 4 tested features drifted (75.0%)" in summary
    assert "Model churn <model> · version 12" in summary
    assert "Data checked /srv/drops/2024-05-01/batch-<0042>.csv" in summary
    assert "Checked at 2024-05-01 12:51:30 UTC" in summary
    assert "Reference train & holdout.parquet · 4,000 rows · version r-9f2c" in summary
    assert "Current 1,500 rows · version c-77" in summary
    assert "MLflow run http://mlflow.internal:5000/#/experiments/3/runs/0a1b2c3d" in summary
    page = read_page(render_html(result, ref, cur, **CONTEXT))
    assert CONTEXT["run_url"] in page.attribute_values("href")


def test_without_context_the_summary_still_reads() -> None:
    """Existing callers pass only the result and frames: no model, file or link, no errors."""
    ref, cur = drifting_frames()
    result = check_frames(ref, cur, DriftConfig())
    text = read_page(render_html(result, ref, cur)).text
    assert "Model – Data checked –" in text and "Rendered 20" in text and "MLflow run" not in text


def test_only_http_run_urls_become_links() -> None:
    ref, cur = drifting_frames()
    result = check_frames(ref, cur, DriftConfig())
    page = render_html(result, ref, cur, run_url="javascript:alert(1)")
    assert "javascript:alert(1)" in read_page(page).text
    assert 'href="javascript' not in page


def test_decision_rule_names_correction_alpha_floors_and_dataset_rule() -> None:
    ref, cur = drifting_frames()
    cfg = DriftConfig(correction="holm", alpha=0.01, dataset_drift_share=0.3, numeric_effect="psi")
    text = read_page(render_html(check_frames(ref, cur, cfg), ref, cur)).text
    assert (
        "A feature drifts when its p-value after Holm correction is below α = 0.01 and its "
        "effect size reaches the floor (categorical: Jensen–Shannon distance ≥ 0.02; "
        "numeric: PSI ≥ 0.05). The dataset drifts when at least 30% of the tested features drift."
    ) in text


def test_drifted_features_lead_the_summary_table_and_charts() -> None:
    ref, cur = drifting_frames()
    result = check_frames(ref, cur, DriftConfig())
    page = render_html(result, ref, cur)
    text = read_page(page).text
    table = text.split("Features (4), drifted first")[1].split("Distributions")[0]
    assert table.index("age") < table.index("steady")
    assert table.index("plan") < table.index("steady")
    charts = text.split("Distributions")[1]
    assert charts.index("age DRIFT") < charts.index("steady ok")
    assert re.search(r'<tr class="drift"><td class="l name"><a href="#f\d">age</a>', page)


# --- the numbers that decided ------------------------------------------------------------


def test_table_names_each_test_and_effect_measure() -> None:
    ref, cur = drifting_frames()
    page = read_page(render_html(check_frames(ref, cur, DriftConfig()), ref, cur))
    rows = page.text.split("Features (4), drifted first")[1].split("Distributions")[0]
    assert "effect measure" in rows and "corrected p" in rows
    alpha = re.escape(f"{DriftConfig().alpha:g}")  # the default alpha is the threshold
    assert re.search(r"age numeric Kolmogorov–Smirnov [\d.e-]+ [\d.e-]+ [\d.e-]+ " + alpha +
                     r" Wasserstein / ref. sd [\d.]+ 0.050 DRIFT", rows)  # fmt: skip
    assert re.search(r"plan categorical chi-square [\d.]+ .+ " + alpha + r" Jensen–Shannon "
                     r"distance [\d.]+ 0.020 DRIFT", rows)  # fmt: skip


def test_tests_and_measures_the_report_does_not_know_are_shown_by_name() -> None:
    """w16 adds tests (Anderson–Darling, Cramér–von Mises); plug-ins add more: none is hard-coded."""
    features = [
        FeatureResult("a", "cvm", "numeric", 0.9, 1e-9, 2e-9, 0.4, {"psi": 0.4}, True,
                      effect_measure="psi", effect_floor=0.1),
        FeatureResult("b", "energy_test", "numeric", 0.1, 0.5, 0.5, 0.01, {"energy": 0.01},
                      effect_measure="energy", effect_floor=0.05),
    ]  # fmt: skip
    result = DriftResult(features, True, ["a"], alpha=0.01, correction="by")
    text = read_page(render_html(result)).text
    assert "Cramér–von Mises" in text and "energy_test" in text and " energy " in text
    assert "Benjamini–Yekutieli" in text
    assert "The data was not passed to the report" in text


def test_dataset_level_numbers_the_report_does_not_know_are_listed_by_name() -> None:
    """A later dataset rule (w16's combined p-value) shows up without a change to the page."""

    @dataclass
    class WithCombined(DriftResult):
        combined_p_value: float | None = None
        dataset_rule: str = "fisher"

    result = WithCombined([], False, [], combined_p_value=1.5e-7)
    text = read_page(render_html(result)).text
    assert "Combined p value 1.50e-07" in text and "Dataset rule fisher" in text


def test_significant_but_small_effect_says_why_it_is_not_drift() -> None:
    """p below alpha and an effect under the floor: not drift, and the row says so."""
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(size=50_000)})
    cur = pd.DataFrame({"x": rng.normal(0.04, 1, size=50_000)})
    result = check_frames(ref, cur, DriftConfig())
    (feature,) = result.features
    alpha = DriftConfig().alpha
    assert feature.p_value_corrected is not None and feature.p_value_corrected < alpha
    assert not feature.drifted
    text = read_page(render_html(result, ref, cur)).text
    assert "ok · effect below floor" in text
    assert f"< α {alpha:g} · Wasserstein / ref. sd 0.0" in text and "< floor 0.05" in text


def test_drifted_rows_and_badges_are_coloured() -> None:
    ref, cur = drifting_frames()
    page = render_html(check_frames(ref, cur, DriftConfig()), ref, cur)
    assert page.count('<span class="badge drift">DRIFT</span>') == 3 * 2  # table and card
    assert ".dwr .badge.drift{background:#d1242f" in page
    assert ".dwr .features tr.drift td{background:#fff5f5}" in page
    assert '<div class="verdict drift" id="summary">' in page


def test_an_underflowed_p_value_reads_as_a_bound() -> None:
    assert format_p(0.0) == "< 1e-300"
    assert format_p(1.5e-30) == "1.50e-30" and format_p(None) == "–"


# --- escaping ------------------------------------------------------------------------------


def test_hostile_names_cannot_add_markup() -> None:
    """Column, category, model and file names are data: they appear as text, never as tags."""
    ref, cur = drifting_frames()
    cfg = DriftConfig(columns=[*ref.columns, "<iframe src=//evil>"])
    result = check_frames(ref, cur, cfg, reference_version="<v1>", current_version='"v2"')
    page = read_page(render_html(result, ref, cur, **CONTEXT))
    assert page.tags <= ALLOWED_TAGS, page.tags - ALLOWED_TAGS
    assert not [k for e in page.elements for k in e.attrs if k.startswith("on")]
    assert HOSTILE in page.text and HOSTILE_CATEGORY in page.text
    assert "<iframe src=//evil>" in page.text  # the schema finding names it
    assert "version <v1>" in page.text and 'version "v2"' in page.text


# --- charts --------------------------------------------------------------------------------


def _svg_texts(svg: str) -> list[tuple[float, float, str]]:
    return [
        (float(x), float(y), text)
        for x, y, text in re.findall(r'<text x="([\d.-]+)" y="([\d.-]+)"[^>]*>([^<]*)<', svg)
    ]


def test_histogram_axes_have_tick_values_where_the_values_are() -> None:
    rng = np.random.default_rng(4)
    summary = summarise_numeric(
        Sample.of(rng.normal(100, 15, 5000)), Sample.of(rng.normal(110, 15, 800))
    )
    assert summary is not None
    svg = histogram_svg(summary, "income")
    texts = _svg_texts(svg)
    lo, hi = float(summary.edges[0]), float(summary.edges[-1])
    x_ticks = [(x, float(t)) for x, y, t in texts if re.fullmatch(r"-?\d+", t) and y > 190]
    assert len(x_ticks) >= 4
    for x, value in x_ticks:  # each label sits where its value is on the axis
        assert x == pytest.approx(56 + (value - lo) / (hi - lo) * (HIST_W - 56 - 14), abs=0.1)
    y_ticks = [t for _, _, t in texts if t.endswith("%")]
    assert y_ticks[0] == "0%" and len(y_ticks) >= 3
    assert "share of rows" in svg and ">income</text>" in svg


def test_category_labels_sit_on_their_bars() -> None:
    """Each label's row holds its two bars (the old chart rotated labels away from them)."""
    summary = summarise_categorical(
        ({"a": 50, "bb": 30, "ccc": 20}, 0), ({"a": 20, "bb": 30, "ccc": 40, "new": 10}, 0)
    )
    assert summary is not None
    svg = bars_svg(summary, "plan")
    labels = re.findall(r'<text x="152" y="([\d.]+)"[^>]*><title>([^<]*)</title>', svg)
    rects = [float(y) for y in re.findall(r'<rect x="160" y="([\d.]+)"', svg)]
    assert [name for _, name in labels] == summary.names == ["a", "ccc", "bb", "new"]
    for i, (y, _) in enumerate(labels):
        ref_top, cur_top = rects[2 * i], rects[2 * i + 1]
        middle = (ref_top + cur_top + 10) / 2
        assert float(y) - 4 == pytest.approx(middle, abs=0.6)  # label centred on its pair


def test_many_categories_show_the_largest_and_the_movers_and_pool_the_rest() -> None:
    ref = {f"c{i:02d}": 100 for i in range(30)}
    cur = {**ref, "c29": 400}  # a small category that moved
    summary = summarise_categorical((ref, 0), (cur, 0))
    assert summary is not None
    assert "c29" in summary.names and len(summary.names) == 10 and summary.n_other == 20
    assert sum(summary.reference_share) == pytest.approx(1.0)
    assert sum(summary.current_share) == pytest.approx(1.0)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@given(
    st.lists(finite, min_size=1, max_size=300),
    st.lists(finite, min_size=1, max_size=300),
    st.booleans(),
)
@example([1.0] * 5, [1.0] * 3, False)  # constant and equal
@example([0.0], [5e-324], False)  # a span too small for distinct bin edges (subnormal)
@example([0.0], [0.0, 5e-324], False)
@example([0.0, 1.0, 2.0], [5.0, 6.0], True)  # integers, one bin per value
@example([1e308, -1.7e308, 0.0], [3.0, -1e308], False)  # spans overflow without scaling
@settings(max_examples=examples(60), deadline=None)
def test_numeric_summary_agrees_with_numpy(ref: list[float], cur: list[float], whole: bool) -> None:
    r, c = np.array(ref), np.array(cur)
    if whole:
        r, c = np.round(r), np.round(c)
    summary = summarise_numeric(Sample.of(r), Sample.of(c))
    assert summary is not None
    probabilities = [p for _, p in QUANTILES]
    # atol: interpolating between subnormals rounds differently from numpy's lerp (5e-324 vs 0)
    for sample, quantiles in ((r, summary.reference_quantiles), (c, summary.current_quantiles)):
        np.testing.assert_allclose(quantiles, np.quantile(sample, probabilities), atol=1e-300)
    edges = summary.edges * summary.scale
    assert np.all(np.diff(summary.edges) > 0) and np.all(np.isfinite(edges))
    for values, shares in ((r, summary.reference_share), (c, summary.current_share)):
        assert shares.sum() == pytest.approx(1.0)
        clipped = np.clip(values / summary.scale, summary.edges[0], summary.edges[-1])
        counts = np.histogram(clipped, summary.edges)[0]
        np.testing.assert_array_equal(np.round(shares * values.size), counts)
    assert summary.reference_mean == pytest.approx(float(np.mean(r / 1e300)) * 1e300)
    for median in (np.median(r), np.median(c)):  # both medians are on the axis
        assert summary.edges[0] <= median / summary.scale <= summary.edges[-1]


def test_prepared_reference_draws_the_same_report_as_the_frame() -> None:
    ref, cur = drifting_frames()
    cfg = DriftConfig()
    prepared = PreparedReference.from_frame(ref, cfg)
    result = check_frames(ref, cur, cfg)
    from_frame = render_html(result, ref, cur, checked_at=0.0).rsplit("<footer>", 1)[0]
    from_prepared = render_html(result, prepared, cur, checked_at=0.0).rsplit("<footer>", 1)[0]
    assert from_prepared == from_frame


# --- wide data -----------------------------------------------------------------------------


def test_thousands_of_columns_give_a_bounded_page_that_says_what_it_left_out() -> None:
    rng = np.random.default_rng(5)
    n_cols, n_drift = 2_000, 40
    ref = pd.DataFrame(rng.normal(size=(300, n_cols)), columns=[f"c{i}" for i in range(n_cols)])
    cur_values = rng.normal(size=(300, n_cols))
    cur_values[:, :n_drift] += 2.0
    cur = pd.DataFrame(cur_values, columns=ref.columns)
    result = check_frames(ref, cur, DriftConfig())
    assert len(result.drifted_features) == n_drift
    page = render_html(result, ref, cur)
    assert len(page) < 2_000_000
    assert page.count("<svg") == DEFAULT_MAX_PLOTS
    text = read_page(page).text
    assert f"Charts for {DEFAULT_MAX_PLOTS} of 2,000 features" in text
    assert f"the other {2000 - DEFAULT_MAX_PLOTS:,} are in the table above" in text
    assert f"{2000 - n_drift - 20:,} more features (no drift)" in text  # folded, all listed
    assert page.count('<tr class="drift">') == n_drift
    assert all(f">c{i}</a>" in page or f">c{i}</td>" in page for i in range(n_cols))


def test_charts_go_to_the_drifted_and_at_most_ten_near_misses() -> None:
    """Each chart sorts a batch column; the quiet features beyond the closest ten are in the
    table only, closest (smallest corrected p) first."""
    rng = np.random.default_rng(6)
    ref = pd.DataFrame(rng.normal(size=(400, 25)), columns=[f"c{i:02d}" for i in range(25)])
    cur_values = rng.normal(size=(400, 25))
    cur_values[:, :3] += 1.5
    cur = pd.DataFrame(cur_values, columns=ref.columns)
    result = check_frames(ref, cur, DriftConfig())
    quiet = sorted(
        (f for f in result.features if not f.drifted), key=lambda f: f.p_value_corrected or 1.0
    )
    page = render_html(result, ref, cur)
    charted = re.findall(r"<h3>(c\d\d) ", page)
    assert sorted(result.drifted_features) == ["c00", "c01", "c02"]
    assert charted == result.drifted_features + [f.feature for f in quiet[:DEFAULT_NEAR_MISSES]]
    assert page.count("<svg") == 3 + DEFAULT_NEAR_MISSES
    assert render_html(result, ref, cur, near_misses=0).count("<svg") == 3
    assert render_html(result, ref, cur, max_plots=2).count("<svg") == 2


# --- numbers -------------------------------------------------------------------------------


@given(finite, st.floats(1e-3, 1e6))
@settings(max_examples=examples(100), deadline=None)
def test_ticks_are_round_and_cover_the_range(lo: float, span: float) -> None:
    hi = lo + span
    ticks = nice_ticks(lo, hi)
    assert 2 <= len(ticks) <= 20
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert min(abs(mantissa - m) for m in (1, 2, 5, 10)) < 1e-6
    assert lo - 1e-9 * step <= ticks[0] and ticks[-1] <= hi + 1e-9 * step  # on the axis
    labels = [tick_label(t, step) for t in ticks]
    assert len(set(labels)) == len(labels)  # no two ticks read the same
