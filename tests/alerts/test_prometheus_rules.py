"""The shipped Prometheus rules: promtool accepts them, their unit tests pass, names are real."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.alerts.promql import PROMETHEUS_SERIES, exported_names, metric_names
from tests.support.prom_tools import require_tool

PROMETHEUS = Path(__file__).resolve().parents[2] / "config" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROMETHEUS,
    )


def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_test_rules() -> None:
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_check_example_config() -> None:
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_check_example_alertmanager_config() -> None:
    result = subprocess.run(
        [require_tool("amtool"), "check-config", "alertmanager.yml"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROMETHEUS,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_use_only_exported_metric_names() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    known = exported_names() | PROMETHEUS_SERIES
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    assert len(exprs) >= 8
    for expr in exprs:
        names = metric_names(expr)
        assert names and names <= known, f"{expr!r} uses unknown metric(s) {sorted(names - known)}"


def test_every_rule_is_covered_by_a_unit_test() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())
    alertnames = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    firing = {
        case["alertname"]
        for test in tests["tests"]
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    assert alertnames == firing


def test_a_broken_rule_file_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum(\n")
    result = subprocess.run(
        [require_tool("promtool"), "check", "rules", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
