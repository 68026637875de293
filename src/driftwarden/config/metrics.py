"""Validation metrics by task, and which way each is better.

One home for the facts the config, the validation, the gate and ``register`` share: MAE
and RMSE are errors (lower wins), everything else is higher-is-better; a run metric's
direction can be read from its name (``test_rmse``, ``val_loss``).
"""

from __future__ import annotations

import re
from typing import Literal

Direction = Literal["higher", "lower"]

# Which metrics belong to which task, and which way is better (error metrics: lower).
CLASSIFICATION_METRICS: tuple[str, ...] = ("accuracy", "f1", "precision", "recall")
REGRESSION_METRICS: tuple[str, ...] = ("mae", "rmse", "r2")
LOWER_IS_BETTER = frozenset({"mae", "rmse"})
# Words that mark a run metric as an error or a loss (``test_rmse``, ``val_loss``, ``mae``).
_ERROR_WORDS = frozenset(
    {"mae", "mse", "rmse", "msle", "rmsle", "mape", "smape", "mad", "loss", "logloss", "error",
     "err", "deviance"}
)  # fmt: skip


def metric_direction(name: str) -> Direction:
    """``lower`` for error metrics (``mae``, ``rmse``, run metrics like ``test_rmse`` or
    ``val_loss``), ``higher`` for everything else (``accuracy``, ``r2``, ``test_score``)."""
    words = {w for w in re.split(r"[^0-9a-z]+", name.lower()) if w}
    return "lower" if name in LOWER_IS_BETTER or words & _ERROR_WORDS else "higher"


def is_better(value: float, other: float, direction: str) -> bool:
    """``value`` strictly better than ``other`` in ``direction``."""
    return value < other if direction == "lower" else value > other


def task_metrics(task: str) -> tuple[str, ...]:
    """The validation metrics that make sense for a model of this task."""
    return REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
