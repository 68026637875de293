"""The GitHub Actions workflow parses and is shaped like a model's CI/CD pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from driftwarden.cli import build_parser

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "ci.yml"


def _workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_workflow_parses_with_triggers_and_jobs() -> None:
    data = _workflow()
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as True
    assert {"push", "pull_request"} <= set(triggers)
    assert set(data["jobs"]) >= {"test", "train", "register", "validate", "drift-gate"}


def test_jobs_run_in_pipeline_order() -> None:
    jobs = _workflow()["jobs"]
    assert "needs" not in jobs["test"]
    assert jobs["train"]["needs"] == "test"
    assert jobs["register"]["needs"] == "train"
    assert jobs["validate"]["needs"] == "register"
    assert jobs["drift-gate"]["needs"] == "register"


def test_jobs_call_the_real_commands() -> None:
    jobs = _workflow()["jobs"]
    assert "make test" in _runs(jobs["test"])
    assert "mlflow run examples/model_project --env-manager local" in _runs(jobs["train"])
    assert "driftwarden register" in _runs(jobs["register"])
    assert "--min-accuracy" in _runs(jobs["validate"])
    assert "--fail-on-drift" in _runs(jobs["drift-gate"])


def test_driftwarden_flags_used_by_the_workflow_exist() -> None:
    """Every `driftwarden ...` invocation in the workflow parses with the real CLI parser."""
    parser = build_parser()
    jobs = _workflow()["jobs"]
    for name in ("register", "validate", "drift-gate"):
        for step in jobs[name]["steps"]:
            run = " ".join(step.get("run", "").split())
            if not run.startswith("driftwarden "):
                continue
            argv = [
                "1" if "${{" in word or "$" in word else word.strip('"')
                for word in _words(run.removeprefix("driftwarden "))
            ]
            parser.parse_args(argv)


def _words(command: str) -> list[str]:
    """Split on spaces outside double quotes (enough for the workflow's commands)."""
    words, current, quoted = [], "", False
    for char in command:
        if char == '"':
            quoted = not quoted
            current += char
        elif char == " " and not quoted:
            if current:
                words.append(current)
            current = ""
        else:
            current += char
    if current:
        words.append(current)
    return words
