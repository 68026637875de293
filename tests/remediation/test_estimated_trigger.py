"""``"estimated"`` is a retrain trigger like drift and validation: on by default, off when
left out of ``retrain.triggers``, refused when misspelled."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from driftwarden.config.model import RetrainConfig
from driftwarden.remediation.policy import should_trigger


def test_estimated_breaches_trigger_a_retrain_by_default() -> None:
    cfg = RetrainConfig(enabled=True, project_uri="examples/regression_project")
    assert "estimated" in cfg.triggers
    assert should_trigger(cfg, "estimated")


def test_left_out_of_the_triggers_an_estimated_breach_starts_nothing() -> None:
    cfg = RetrainConfig(enabled=True, project_uri="p", triggers=["drift", "validation"])
    assert not should_trigger(cfg, "estimated")
    assert should_trigger(cfg, "validation")
    only = RetrainConfig(enabled=True, project_uri="p", triggers=["estimated"])
    assert should_trigger(only, "estimated") and not should_trigger(only, "drift")


def test_an_unknown_trigger_is_refused() -> None:
    with pytest.raises(ValidationError, match="estimated"):
        RetrainConfig(enabled=True, project_uri="p", triggers=["estimate"])
