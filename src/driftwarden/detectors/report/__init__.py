"""A self-contained HTML drift report: summary, the feature table, a chart per feature.

Inline SVG and CSS only, so the file opens anywhere (an MLflow artifact view, an email, a
notebook) without fetching anything or running a script. Drifted features come first.
"""

from __future__ import annotations

from driftwarden.detectors.report.numbers import format_number
from driftwarden.detectors.report.page import (
    DEFAULT_MAX_PLOTS,
    DEFAULT_MAX_TABLE_ROWS,
    DEFAULT_NEAR_MISSES,
    ReportContext,
    render_fragment,
    render_html,
)

__all__ = [
    "DEFAULT_MAX_PLOTS",
    "DEFAULT_MAX_TABLE_ROWS",
    "DEFAULT_NEAR_MISSES",
    "ReportContext",
    "format_number",
    "render_fragment",
    "render_html",
]
