"""The record every performance estimator returns, the same for classifiers and regressors."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from driftwarden.config.metrics import LOWER_IS_BETTER

# Metrics where a lower value is better; every other estimated metric is higher-is-better.
ERROR_METRICS = LOWER_IS_BETTER


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclass
class EstimationResult:
    """A performance estimate for one batch of unlabelled rows.

    Attributes:
        method: the estimator (``cbpe``, ``iw-cbpe``, ``dle``, ``iw-dle``).
        task: ``classification`` or ``regression``.
        rows: rows in the batch.
        estimated: metric -> estimated value on the batch.
        interval: metric -> (low, high), at ``level``: where the realized value should
            fall, counting the batch's own sampling variance and the estimate's.
        reference: metric -> value on the labelled evaluation set (the "no change" guess).
        realized: metric -> value from the batch's own labels, when it had them.
        level: the interval's coverage level.
        details: how the estimate was made (weights' effective rows, domain AUC, average).
    """

    method: str
    task: str
    rows: int
    estimated: dict[str, float]
    interval: dict[str, tuple[float, float]]
    reference: dict[str, float]
    realized: dict[str, float] | None = None
    level: float = 0.95
    details: dict[str, Any] = field(default_factory=dict)

    def errors(self) -> dict[str, float]:
        """Estimated minus realized, per metric (empty without labels)."""
        if self.realized is None:
            return {}
        return {
            name: self.estimated[name] - value
            for name, value in self.realized.items()
            if name in self.estimated
        }

    def breaches(
        self, minimums: dict[str, float], maximums: dict[str, float]
    ) -> dict[str, tuple[float, float]]:
        """Metrics surely past their limit: name -> (bound, limit).

        A higher-is-better metric breaches when even its interval's upper bound is below
        the minimum; an error metric when even its lower bound is above the maximum.
        """
        out: dict[str, tuple[float, float]] = {}
        for name, minimum in minimums.items():
            if name in self.interval and self.interval[name][1] < minimum:
                out[name] = (self.interval[name][1], minimum)
        for name, maximum in maximums.items():
            if name in self.interval and self.interval[name][0] > maximum:
                out[name] = (self.interval[name][0], maximum)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``estimate --format json`` object plus ``level`` and ``details``; JSON-safe."""
        return {
            "method": self.method,
            "task": self.task,
            "rows": self.rows,
            "estimated": {k: _finite(v) for k, v in self.estimated.items()},
            "interval": {k: [_finite(lo), _finite(hi)] for k, (lo, hi) in self.interval.items()},
            "reference": {k: _finite(v) for k, v in self.reference.items()},
            "realized": None
            if self.realized is None
            else {k: _finite(v) for k, v in self.realized.items()},
            "level": self.level,
            "details": self.details,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EstimationResult:
        """Rebuild from ``to_dict()`` output (e.g. read back from the daemon's outbox)."""
        nan = float("nan")
        return cls(
            method=data["method"],
            task=data["task"],
            rows=int(data["rows"]),
            estimated={k: nan if v is None else v for k, v in data["estimated"].items()},
            interval={
                k: (nan if lo is None else lo, nan if hi is None else hi)
                for k, (lo, hi) in data["interval"].items()
            },
            reference={k: nan if v is None else v for k, v in data["reference"].items()},
            realized=None
            if data.get("realized") is None
            else {k: nan if v is None else v for k, v in data["realized"].items()},
            level=float(data.get("level", 0.95)),
            details=dict(data.get("details", {})),
        )

    def to_mlflow_metrics(self) -> dict[str, float]:
        """``estimated_<metric>``, ``..._lower``, ``..._upper`` and, with labels, ``estimation_error_<metric>``."""
        out: dict[str, float] = {}
        for name, value in self.estimated.items():
            out[f"estimated_{name}"] = value
            low, high = self.interval.get(name, (math.nan, math.nan))
            out[f"estimated_{name}_lower"], out[f"estimated_{name}_upper"] = low, high
        for name, error in self.errors().items():
            out[f"estimation_error_{name}"] = error
        return {k: float(v) for k, v in out.items() if math.isfinite(v)}
