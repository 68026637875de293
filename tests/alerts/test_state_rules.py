"""The state rule (issue 10.3) and rules whose input cannot be read on a full disk."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from driftwarden.alerts.rules import AlertRules
from driftwarden.config.model import AlertsConfig
from driftwarden.observability.metrics import Metrics


def _rules() -> AlertRules:
    return AlertRules(AlertsConfig(), "m", Metrics(CollectorRegistry()), clock=lambda: 0.0)


def test_state_not_writable_fires_critical_and_resolves() -> None:
    rules = _rules()
    [fired] = rules.evaluate_time(now=1.0, last_success_ts=1.0, state_problem="disk full")
    assert (fired.rule, fired.status, fired.severity) == (
        "state_not_writable",
        "firing",
        "critical",
    )
    assert "disk full" in fired.description
    assert rules.evaluate_time(now=2.0, last_success_ts=2.0, state_problem="disk full") == []
    [resolved] = rules.evaluate_time(now=3.0, last_success_ts=3.0)
    assert (resolved.rule, resolved.status) == ("state_not_writable", "resolved")


def test_an_unreadable_input_neither_fires_nor_resolves_its_rule() -> None:
    rules = _rules()
    [fired] = rules.evaluate_time(now=1.0, last_success_ts=1.0, dead_writes=2)
    assert fired.rule == "mlflow_dead_writes"
    # The outbox cannot be read (a full disk): the dead-writes alert stays as it is.
    alerts = rules.evaluate_time(
        now=2.0, last_success_ts=2.0, dead_writes=None, unknown=["mlflow_dead_writes"]
    )
    assert alerts == []
    # Stale: unknown while the ledger cannot be read, even long after the last success.
    fresh = _rules()
    assert fresh.evaluate_time(now=10.0**6, last_success_ts=None, unknown=["stale"]) == []
    [stale] = fresh.evaluate_time(now=10.0**6, last_success_ts=None)
    assert stale.rule == "stale"
