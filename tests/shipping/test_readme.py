"""README.md as an operator reads it: the quickstart, the metric names, the CLI contract."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from prometheus_client import Counter

from driftwarden.cli import COMMANDS
from driftwarden.observability import metrics as metrics_module
from driftwarden.observability.metrics import Metrics

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands() -> None:
    lines = README.splitlines()
    assert lines[0] == "# driftwarden"
    block = README.split("```")[1].strip().splitlines()
    assert [line.split()[:2] for line in block] == [["make", "demo"], ["make", "test"]]


def metric_rows() -> dict[str, str]:
    """Metric name -> its table row in the README's metrics section."""
    section = README.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    return {
        m.group(1): m.group(0) for m in re.finditer(r"^\| `(driftwarden_\w+)` \|.*$", section, re.M)
    }


def exported_names() -> dict[str, Any]:
    """Every exported metric family name (``_total`` for counters, as Prometheus shows it)."""
    names: dict[str, Any] = {}
    for value in vars(Metrics()).values():
        if hasattr(value, "_name") and hasattr(value, "_labelnames"):
            name = value._name + ("_total" if isinstance(value, Counter) else "")
            names[name] = value
    return names


def test_metrics_table_lists_exactly_the_exported_metrics() -> None:
    assert set(metric_rows()) == set(exported_names())


def test_metrics_table_names_each_metrics_labels() -> None:
    rows = metric_rows()
    for name, metric in exported_names().items():
        labels = list(metric._labelnames)
        row = rows[name]
        documented = re.findall(r"`(\w+)`", row.split("|")[3])
        assert documented == labels, f"{name}: README says {documented}, code has {labels}"


def test_metrics_table_lists_the_fixed_label_values() -> None:
    rows = metric_rows()
    fixed = {
        "driftwarden_checks_total": metrics_module.CHECK_KINDS + metrics_module.CHECK_OUTCOMES,
        "driftwarden_files_total": metrics_module.FILE_OUTCOMES,
        "driftwarden_retrains_total": metrics_module.RETRAIN_OUTCOMES,
        "driftwarden_alerts_total": metrics_module.ALERT_RULES,
    }
    for name, values in fixed.items():
        for value in values:
            assert re.search(rf"\b{value}\b", rows[name]), f"{name}: {value} not documented"


def test_cli_contract_lists_every_command() -> None:
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    for command in COMMANDS:
        assert f"driftwarden {command}" in re.sub(r" +", " ", section), command


def test_config_reference_markers_present_once() -> None:
    assert README.count("<!-- config-reference:start -->") == 1
    assert README.count("<!-- config-reference:end -->") == 1
