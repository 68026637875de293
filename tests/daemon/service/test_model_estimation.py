"""``[models.<name>.estimation]``: each model's drops are estimated with its own settings.

A real in-process daemon keeps three models that share the top-level ``[estimation]`` but
override it differently: ``wide`` keeps it as it is, ``narrow`` asks for a 60 % interval,
``off`` turns estimation off. The evaluation set and the drops carry the model's outputs as
columns (``proba_<class>``), so no MLflow model is needed. The same drop goes to each
model; what each one did is read from the events it published (never from log text).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.events import types as ev
from tests.support.daemon_proc import models_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon

Start = Callable[..., InProcessDaemon]


def scored(n: int, seed: int, labelled: bool) -> pd.DataFrame:
    """The test config's features with a classifier's calibrated probabilities beside them."""
    frame = sample_frame(n, seed=seed, target=False)
    rng = np.random.default_rng(seed + 1000)
    p1 = 1 / (1 + np.exp(-3.0 * frame["x1"].to_numpy()))
    frame["proba_0"], frame["proba_1"] = (1 - p1).round(6), p1.round(6)
    if labelled:
        frame["target"] = (rng.uniform(size=n) < p1).astype(int)
    return frame


def test_each_model_estimates_its_drops_with_its_own_estimation_settings(
    tmp_path: Path, start_daemon: Start
) -> None:
    evaluation = tmp_path / "evaluation.csv"
    scored(600, seed=1, labelled=True).to_csv(evaluation, index=False)
    models = {
        "wide": {},
        "narrow": {"estimation": {"interval_level": 0.6}},
        "off": {"estimation": {"enabled": False}},
    }
    config = models_config(
        tmp_path,
        models,
        watch={"settle_seconds": 0.2},
        estimation={"reference": str(evaluation), "method": "cbpe", "interval_level": 0.95},
    )
    running = start_daemon(config)
    keepers = running.parts.keepers
    assert keepers["narrow"].config().estimation.interval_level == 0.6
    assert keepers["narrow"].config().estimation.method == "cbpe"  # the others: [estimation]'s
    drop = scored(400, seed=2, labelled=False)
    for model in models:
        write_csv(tmp_path / f"drop-{model}" / "batch.csv", drop)

    def estimated(model: str) -> ev.PerformanceEstimated:
        [found] = running.wait(ev.PerformanceEstimated, lambda e: e.model == model, timeout=60)
        return found

    wide, narrow = estimated("wide"), estimated("narrow")
    # One method, one seed, one drop: the same estimate, in a narrower interval for narrow.
    assert wide.method == narrow.method == "cbpe"
    assert narrow.estimated["accuracy"] == pytest.approx(wide.estimated["accuracy"])
    (wide_low, wide_high), (low, high) = wide.interval["accuracy"], narrow.interval["accuracy"]
    assert wide_low < low < narrow.estimated["accuracy"] < high < wide_high
    # off checked the same drop for drift and estimated nothing.
    running.wait(ev.FileChecked, lambda e: e.model == "off", timeout=60)
    running.wait(ev.FileChecked, lambda e: e.model != "off", count=2, timeout=60)
    assert {e.model for e in running.events.of(ev.PerformanceEstimated)} == {"wide", "narrow"}
    assert not running.events.of(ev.EstimationUnavailable)


def test_a_reload_applies_a_models_estimation_to_that_model_only(
    tmp_path: Path, start_daemon: Start
) -> None:
    models: dict[str, dict[str, object]] = {"a": {}, "b": {}}
    running = start_daemon(models_config(tmp_path, models), loop=False)
    keepers = running.parts.keepers
    a, b = keepers["a"], keepers["b"]
    models_config(tmp_path, {"a": {"estimation": {"enabled": False}}, "b": {}})
    running.daemon.reload()
    [reloaded] = running.events.of(ev.ConfigReloaded)
    assert reloaded.changes == ("models.a.estimation.enabled: True -> False",)
    # Read per drop (live): the same keepers, a's settings changed, b's not.
    assert keepers["a"] is a and keepers["b"] is b
    assert not a.config().estimation.enabled and b.config().estimation.enabled
