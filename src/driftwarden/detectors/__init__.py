"""Statistical drift detection: pure computation on frames and arrays, no I/O.

``PreparedReference.from_frame`` once per reference, then ``check_drift`` per batch.
"""

from __future__ import annotations

from driftwarden.detectors.base import (
    DriftResult,
    FeatureResult,
    MultivariateResult,
    SchemaFinding,
)
from driftwarden.detectors.drift import check_drift, check_frames
from driftwarden.detectors.prepared import PreparedReference

__all__ = [
    "DriftResult",
    "FeatureResult",
    "MultivariateResult",
    "PreparedReference",
    "SchemaFinding",
    "check_drift",
    "check_frames",
]
