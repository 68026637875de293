"""The HTML report is self-contained and lists drifted features first."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
