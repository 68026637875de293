"""Statistical drift detection: pure computation on frames and arrays, no I/O.

``PreparedReference.from_frame`` once per reference, then ``check_drift`` per batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from driftwarden.detectors.base import (
    DriftResult,
    FeatureResult,
    MultivariateResult,
    SchemaFinding,
)

if TYPE_CHECKING:
    from driftwarden.detectors.drift import check_drift, check_frames
    from driftwarden.detectors.prepared import PreparedReference

# Imported when first used: the tests import scipy.stats, which a daemon at rest (and a
# restart that maps a stored reference) does without.
_LAZY = {
    "check_drift": "driftwarden.detectors.drift",
    "check_frames": "driftwarden.detectors.drift",
    "PreparedReference": "driftwarden.detectors.prepared",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "DriftResult",
    "FeatureResult",
    "MultivariateResult",
    "PreparedReference",
    "SchemaFinding",
    "check_drift",
    "check_frames",
]
