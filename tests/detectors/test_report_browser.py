"""The HTML report in a real browser: Debian's chromium, headless, renders and reads it.

The page is written to a file and opened over ``file://`` the way an on-call person opens
a downloaded MLflow artifact. One chromium run takes the screenshot and prints the DOM it
built (``--dump-dom``), so the text asserted here is what the browser parsed, scripts and
all, had there been any.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from driftwarden.config.model import DriftConfig
from driftwarden.detectors import check_frames
from driftwarden.detectors.report import render_html
from driftwarden.detectors.report.svg import CURRENT_COLOUR, REFERENCE_COLOUR
from tests.detectors.report_data import CONTEXT, HOSTILE, HOSTILE_CATEGORY, drifting_frames
from tests.support.html_page import read_page
from tests.support.prom_tools import require_tool

pytestmark = pytest.mark.integration

WIDTH, HEIGHT = 1280, 2000
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DRIFT_RED = (0xD1, 0x24, 0x2F)  # the DRIFT badge


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def _has_colour(image: Image.Image, colour: tuple[int, int, int], at_least: int = 50) -> bool:
    counts = image.getcolors(maxcolors=WIDTH * HEIGHT) or []
    near = sum(
        n for n, rgb in counts if max(abs(a - b) for a, b in zip(rgb, colour, strict=True)) <= 6
    )
    return near >= at_least


def _open_in_chromium(page: Path, shot: Path, profile: Path) -> str:
    chromium = require_tool("chromium")
    profile.mkdir()
    done = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            f"--window-size={WIDTH},{HEIGHT}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_chromium_renders_the_report_and_shows_the_summary_and_drifted_columns_first(
    tmp_path: Path,
) -> None:
    reference, current = drifting_frames()
    result = check_frames(
        reference, current, DriftConfig(), reference_version="r-9f2c", current_version="c-77"
    )
    page = tmp_path / "report <1>.html"
    page.write_text(render_html(result, reference, current, **CONTEXT), encoding="utf-8")
    shot = tmp_path / "report.png"

    dom = _open_in_chromium(page, shot, tmp_path / "profile")

    image = Image.open(shot).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    assert len(image.getcolors(maxcolors=WIDTH * HEIGHT) or []) > 200  # text, charts, not blank
    assert _has_colour(image, DRIFT_RED)  # the drifted verdicts are red
    assert _has_colour(image, _rgb(CURRENT_COLOUR)) and _has_colour(image, _rgb(REFERENCE_COLOUR))

    parsed = read_page(dom)
    assert not parsed.tags & {"script", "img", "iframe"}  # the hostile names stayed text
    text = parsed.text
    assert "Drift report: churn <model>" in text
    assert "Dataset drift: 3 of 4 tested features drifted (75.0%)" in text
    assert "Model churn <model> · version 12" in text
    assert "Checked at 2024-05-01 12:51:30 UTC" in text
    assert "Data checked /srv/drops/2024-05-01/batch-<0042>.csv" in text
    assert "Reference train & holdout.parquet · 4,000 rows · version r-9f2c" in text
    assert f"Benjamini–Hochberg correction is below α = {DriftConfig().alpha:g}" in text
    assert "Wasserstein / ref. sd" in text and "Jensen–Shannon distance" in text
    table = text.split("Features (4), drifted first")[1].split("Distributions")[0]
    drifted = [table.index(name) for name in ("plan", HOSTILE, "age")]
    assert max(drifted) < table.index("steady")
    charts = text.split("Distributions")[1]
    assert charts.index("DRIFT") < charts.index("steady ok")
    assert HOSTILE_CATEGORY in charts and "enterprise new" in charts
