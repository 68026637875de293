"""Frames for report tests: drift in a numeric and a categorical column, a hostile column name."""

from __future__ import annotations

import numpy as np
import pandas as pd

HOSTILE = 'amount "<img src=x onerror=alert(1)>" & </style><script>alert(2)</script>'
HOSTILE_CATEGORY = "<b>vip</b> & </svg>"
CONTEXT = {
    "model_name": "churn <model>",
    "model_version": 12,
    "source": "/srv/drops/2024-05-01/batch-<0042>.csv",
    "reference_source": "train & holdout.parquet",
    "checked_at": 1714567890.0,  # 2024-05-01 12:51:30 UTC
    "run_url": "http://mlflow.internal:5000/#/experiments/3/runs/0a1b2c3d",
}


def drifting_frames(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``age`` (integers), the hostile column and ``plan`` (categorical) drift; ``steady`` does not."""
    rng = np.random.default_rng(seed)
    n, m = 4_000, 1_500
    plans = ["free", "pro", "team", HOSTILE_CATEGORY]
    reference = pd.DataFrame(
        {
            "steady": rng.normal(size=n),
            "age": rng.poisson(38, n),
            HOSTILE: rng.lognormal(3, 0.5, n),
            "plan": rng.choice(plans, n, p=[0.6, 0.25, 0.1, 0.05]),
        }
    )
    current = pd.DataFrame(
        {
            "steady": rng.normal(size=m),
            "age": rng.poisson(42, m),
            HOSTILE: rng.lognormal(3.3, 0.5, m),
            "plan": rng.choice([*plans, "enterprise"], m, p=[0.4, 0.3, 0.1, 0.1, 0.1]),
        }
    )
    return reference, current
