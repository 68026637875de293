"""The HTML report is self-contained and lists drifted features first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftwarden.config.model import DriftConfig
from driftwarden.detectors import check_frames
from driftwarden.detectors.report import render_html


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
    assert "-1.7e+308 … 1e+308</div>" in page  # the axis shows the real range
    assert "nan" not in page.lower()


def test_a_failing_plot_costs_only_that_plot(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake fault (no real input still breaks a plot once the overflow above is fixed):
    the report is still written, naming the plot as unavailable."""
    from driftwarden.detectors import report

    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"x": rng.normal(size=100), "c": rng.choice(["u", "v"], 100)})
    cur = pd.DataFrame({"x": rng.normal(size=100), "c": rng.choice(["u", "v"], 100)})
    result = check_frames(ref, cur, DriftConfig())

    def broken(ref: pd.Series, cur: pd.Series) -> str:
        raise ValueError("bins must increase monotonically")

    monkeypatch.setattr(report, "_numeric_plot", broken)
    page = render_html(result, ref, cur)
    assert page.count("plot unavailable (ValueError)") == 1
    assert page.count("<svg") == 1  # the categorical plot is still there
    assert page.endswith("</body></html>")
