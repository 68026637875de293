"""driftwarden: keeps a production ML model honest.

The Python API (documented in the README's "Python API" section, kept stable)::

    import driftwarden as dw
    result = dw.check(reference_df, current_df, alpha=0.01)
    result.to_frame()   # one row per feature
    result.to_html()    # the report; Jupyter shows it by itself

Names are loaded on first use, so ``import driftwarden`` (and every ``driftwarden``
command's start-up) stays free of pandas, scipy and mlflow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "check": "driftwarden.api",
    "DriftConfig": "driftwarden.config.model",
    "PreparedReference": "driftwarden.detectors.prepared",
    "DriftResult": "driftwarden.detectors.base",
    "FeatureResult": "driftwarden.detectors.base",
    "MultivariateResult": "driftwarden.detectors.base",
    "SchemaFinding": "driftwarden.detectors.base",
    "render_html": "driftwarden.detectors.report",
}

__all__ = [
    "DriftConfig",
    "DriftResult",
    "FeatureResult",
    "MultivariateResult",
    "PreparedReference",
    "SchemaFinding",
    "__version__",
    "check",
    "render_html",
]

if TYPE_CHECKING:
    from driftwarden.api import check
    from driftwarden.config.model import DriftConfig
    from driftwarden.detectors.base import (
        DriftResult,
        FeatureResult,
        MultivariateResult,
        SchemaFinding,
    )
    from driftwarden.detectors.prepared import PreparedReference
    from driftwarden.detectors.report import render_html


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'driftwarden' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
