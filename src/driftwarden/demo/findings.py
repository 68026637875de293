"""What the demo shows about a drift check: its MLflow run, top features, the HTML report.

The daemon writes each check to MLflow through its outbox, a moment after the check; the
demo reads it back from the store like any user would (tag ``driftwarden.file``), so what
it prints is what was logged.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from driftwarden.tracking.drift_run import REPORT_ARTIFACT, RESULT_ARTIFACT


def find_drift_run(client: Any, experiment: str, file_name: str, timeout: float) -> Any | None:
    """The finished drift run of the drop ``file_name``; None when it is not there in time."""
    deadline = time.monotonic() + timeout
    while True:
        found = client.get_experiment_by_name(experiment)
        if found is not None:
            runs = client.search_runs(
                [found.experiment_id],
                filter_string=(
                    "tags.`driftwarden.kind` = 'drift' "
                    f"and tags.`driftwarden.file` = '{file_name}' "
                    "and attributes.status = 'FINISHED'"
                ),
                max_results=1,
            )
            if runs:
                return runs[0]
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.5)


def local_artifact(run: Any, artifact: str) -> Path | None:
    """Path of one artifact in a local (file://) artifact store; None for remote stores."""
    uri = urlparse(str(run.info.artifact_uri))
    if uri.scheme not in ("", "file"):
        return None
    return Path(unquote(uri.path)) / artifact


def report_path(run: Any) -> Path | None:
    return local_artifact(run, REPORT_ARTIFACT)


def top_features(run: Any, limit: int = 5) -> list[str]:
    """One line per drifted feature, largest effect first: test, statistic, p-values, effect."""
    path = local_artifact(run, RESULT_ARTIFACT)
    if path is None or not path.is_file():
        return []
    result = json.loads(path.read_text(encoding="utf-8"))
    features = [f for f in result.get("features", []) if f.get("drifted")]
    features.sort(key=lambda f: -(f.get("effect_size") or 0.0))
    lines = []
    for f in features[:limit]:
        effects = f.get("effect_sizes") or {}
        shown = ", ".join(f"{k} {v:.3f}" for k, v in sorted(effects.items()) if v is not None)
        if not shown:
            shown = f"{f.get('effect_size') or 0.0:.3f}"
        lines.append(
            f"{f['feature']:<16} {f.get('test', '?')} statistic {_num(f.get('statistic'))}"
            f"  p {_num(f.get('p_value'), 'e')} (corrected {_num(f.get('p_value_corrected'), 'e')})"
            f"  effect: {shown}"
        )
    rest = len(features) - limit
    if rest > 0:
        lines.append(f"... and {rest} more drifted columns")
    return lines


def _num(value: object, kind: str = "f") -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value:.2e}" if kind == "e" else f"{value:.3f}"
