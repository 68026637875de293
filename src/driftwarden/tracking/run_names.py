"""MLflow run names that say what was checked and what came out: ``drift · batch_0042.csv · no drift``.

The subject comes from the run's tags: the dropped file (daemon), the current file (CLI
``check``), the labelled file (``validate``) or the files of a scheduled window. Names are
bounded (MLflow's UI shows about this much) and printable: control characters from a
hostile file name are replaced, so a name never breaks a log line or a terminal.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # validation's module imports scikit-learn: not at rest in the daemon
    from driftwarden.detectors.base import DriftResult
    from driftwarden.detectors.validation import ValidationResult

MAX_NAME = 120
MAX_SUBJECT = 64
SEPARATOR = " · "

# Tag keys that name one file, most specific first.
_FILE_TAGS = ("driftwarden.file", "driftwarden.current_file", "driftwarden.data_path")
_WINDOW_TAG = "driftwarden.window_files"


def drift_run_name(result: DriftResult, tags: dict[str, str]) -> str:
    """``drift · <file or window> · drift|no drift``."""
    verdict = "drift" if result.dataset_drift else "no drift"
    return _join("drift", subject(tags), verdict)


def validation_run_name(result: ValidationResult, tags: dict[str, str]) -> str:
    """``validation · <file or window> · <model> v<version> · accuracy 0.931``.

    The score shown is accuracy, or the first metric when there is none (a regressor's).
    """
    model = tags.get("driftwarden.model", "")
    version = result.model_version or tags.get("driftwarden.model_version") or "?"
    parts = ["validation", subject(tags), f"{model} v{version}".strip()]
    metric = "accuracy" if "accuracy" in result.metrics else next(iter(result.metrics), None)
    if metric is not None:
        parts.append(f"{_short(metric)} {float(result.metrics[metric]):.3f}")
    return _join(*parts)


def subject(tags: dict[str, str]) -> str:
    """What a run looked at, from its tags: a file's name, a window's size, or its scope."""
    for key in _FILE_TAGS:
        if tags.get(key):
            return _short(PurePath(tags[key]).name or tags[key])
    if tags.get(_WINDOW_TAG):
        files = [name for name in tags[_WINDOW_TAG].split(",") if name]
        if len(files) == 1:
            return _short(files[0])
        return f"window of {len(files)} files"
    scope = tags.get("driftwarden.scope")
    return _short(scope) if scope else "data"


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _short(text: str) -> str:
    """Printable, at most MAX_SUBJECT characters (the middle elided, the extension kept)."""
    clean = _printable(text).strip() or "?"
    if len(clean) <= MAX_SUBJECT:
        return clean
    keep = (MAX_SUBJECT - 1) // 2
    return f"{clean[:keep]}…{clean[-(MAX_SUBJECT - 1 - keep) :]}"


def _join(*parts: str) -> str:
    name = SEPARATOR.join(_printable(p) for p in parts if p)
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"
