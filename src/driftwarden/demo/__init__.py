"""``driftwarden demo``: the whole loop on an embedded MLflow (sqlite), built from public pieces."""

from __future__ import annotations

from driftwarden.demo.command import demo_command
from driftwarden.demo.workdir import (
    CHECK_EXPERIMENT,
    MODEL_NAME,
    RETRAIN_EXPERIMENT,
    TRAIN_EXPERIMENT,
)

__all__ = [
    "CHECK_EXPERIMENT",
    "MODEL_NAME",
    "RETRAIN_EXPERIMENT",
    "TRAIN_EXPERIMENT",
    "demo_command",
]
