"""`config check` says where things go, and no command writes to the working directory unasked.

An MLflow experiment keeps the artifact location it was created with: `config check` reads
the real one from a sqlite store (and a drift run really lands there), and says so for a
server it does not contact. Without `--config` and without `MLFLOW_TRACKING_URI`, commands
that log to MLflow refuse instead of creating `./driftwarden-state/`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.config import load_settings
from tests.config.test_load import config_check, write
from tests.support.mlflow_store import fresh_store

DRIFTWARDEN = Path(sys.executable).parent / "driftwarden"


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DRIFTWARDEN_"))}
    env.pop("STATE_DIRECTORY", None)
    env.update(extra or {})
    return env


def driftwarden(
    cwd: Path, *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DRIFTWARDEN), *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(env),
        timeout=180,
    )


@pytest.fixture()
def batches(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    data = tmp_path / "data"
    data.mkdir()
    ref, cur = data / "ref.csv", data / "cur.csv"
    pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)}).to_csv(ref, index=False)
    pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)}).to_csv(cur, index=False)
    return ref, cur


def _where(stderr: str) -> dict[str, str]:
    """The where-things-go block on stderr: label -> text."""
    block = stderr.split("where things go:\n", 1)[1]
    out = {}
    for line in block.splitlines():
        if line.startswith("  ") and not line.startswith("    "):
            label, _, text = line.strip().partition(": ")
            out[label] = text
    return out


@pytest.mark.slow
def test_config_check_names_the_real_artifact_location_of_an_existing_experiment(
    tmp_path: Path, batches: tuple[Path, Path]
) -> None:
    """The experiment was created earlier elsewhere (as `validate` run in another directory
    did): its runs go to its own location, not to mlflow.artifact_location."""
    from mlflow.tracking import MlflowClient

    elsewhere = (tmp_path / "elsewhere" / "artifacts").as_uri()
    state = tmp_path / "state"
    client = MlflowClient(tracking_uri=f"sqlite:///{fresh_store(state / 'mlflow.db')}")
    client.create_experiment("checks", artifact_location=elsewhere)
    cfg = write(
        tmp_path / "dw.toml", '[state]\ndirectory = "state"\n[mlflow]\nexperiment_name = "checks"\n'
    )
    proc = config_check(cfg, tmp_path)
    assert proc.returncode == 0, proc.stderr
    where = _where(proc.stderr)
    assert where["state directory"].startswith(f"{state} (state.directory in the config file)")
    assert where["MLflow tracking URI"] == f"sqlite:///{state / 'mlflow.db'}"
    configured = (state / "mlartifacts").as_uri()
    assert where["experiment 'checks'"] == (
        f"exists; its artifacts go to {elsewhere} (not to mlflow.artifact_location "
        f"{configured}: that applies only to experiments driftwarden creates)"
    )
    # stdout is still just the effective config, which still shows the configured root
    assert f'artifact_location = "{configured}"' in proc.stdout
    assert "where things go" not in proc.stdout

    ref, cur = batches
    logged = driftwarden(
        tmp_path, "check", str(ref), str(cur), "--config", str(cfg), "--format", "json",
        "--log-to-mlflow",
    )  # fmt: skip
    assert logged.returncode == 0, logged.stderr
    assert json.loads(logged.stdout)["mlflow_report_uri"].startswith(elsewhere + "/")


@pytest.mark.slow
def test_a_new_experiment_is_announced_where_it_will_be_created(
    tmp_path: Path, batches: tuple[Path, Path]
) -> None:
    cfg = write(tmp_path / "dw.toml", '[state]\ndirectory = "state"\n')
    root = (tmp_path / "state" / "mlartifacts").as_uri()
    proc = config_check(cfg, tmp_path)
    assert _where(proc.stderr)["experiment 'driftwarden'"] == (
        f"not created yet; driftwarden creates it with artifacts under {root}"
    )
    assert not (tmp_path / "state").exists()  # looking created nothing
    ref, cur = batches
    logged = driftwarden(tmp_path, "check", str(ref), str(cur), "--config", str(cfg),
                         "--format", "json", "--log-to-mlflow")  # fmt: skip
    assert json.loads(logged.stdout)["mlflow_report_uri"].startswith(root + "/")
    again = _where(config_check(cfg, tmp_path).stderr)["experiment 'driftwarden'"]
    assert again == f"exists; its artifacts go to {root}"


def test_a_tracking_server_is_not_contacted_and_its_password_not_shown(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", '[model]\nname = "m"\n')
    env = {"MLFLOW_TRACKING_URI": "https://ops:pw-secret-77@mlflow.example.invalid"}
    proc = config_check(cfg, tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    where = _where(proc.stderr)
    assert where["MLflow tracking URI"] == "https://ops:***@mlflow.example.invalid"
    assert where["experiment 'driftwarden'"].startswith(
        "on a tracking server (not contacted): if it exists it keeps the artifact location "
        "it was created with"
    )
    assert "pw-secret-77" not in proc.stdout + proc.stderr


def test_the_retrain_experiment_is_listed_when_retraining_is_on(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "dw.toml",
        '[state]\ndirectory = "s"\n[retrain]\nenabled = true\nproject_uri = "proj"\n',
    )
    where = _where(config_check(cfg, tmp_path).stderr)
    assert "experiment 'driftwarden-retrain'" in where


@pytest.mark.parametrize(
    ("text", "env", "says"),
    [
        ('[state]\ndirectory = "s"\n', {}, "state.directory in the config file"),
        ('[model]\nname = "m"\n', {}, "the default, beside the config file; under systemd"),
        ('[model]\nname = "m"\n', {"STATE_DIRECTORY": "/var/lib/dw"}, "$STATE_DIRECTORY"),
    ],
)
def test_the_state_directory_line_says_who_chose_it(
    tmp_path: Path, text: str, env: dict[str, str], says: str
) -> None:
    cfg = write(tmp_path / "dw.toml", text)
    proc = config_check(cfg, tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert says in _where(proc.stderr)["state directory"]


def test_without_a_config_file_the_state_line_says_what_to_do(tmp_path: Path) -> None:
    proc = config_check(None, tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = _where(proc.stderr)["state directory"]
    assert line.startswith(str(tmp_path / "driftwarden-state"))
    assert "pass --config FILE or set MLFLOW_TRACKING_URI" in line
    assert not (tmp_path / "driftwarden-state").exists()


def test_config_check_does_not_import_mlflow(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", '[state]\ndirectory = "s"\n')
    code = (
        "import sys; from driftwarden.cli import main; "
        f"rc = main(['config', 'check', '--config', {str(cfg)!r}]); "
        "sys.stderr.write(f'RC={rc} MLFLOW_LOADED={\"mlflow\" in sys.modules}')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=_env()
    )
    assert "RC=0 MLFLOW_LOADED=False" in proc.stderr


# --- nothing written to the working directory unasked -----------------------------------


@pytest.mark.slow
def test_check_log_to_mlflow_without_a_store_refuses_and_writes_nothing(
    tmp_path: Path, batches: tuple[Path, Path]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    ref, cur = batches
    proc = driftwarden(work, "check", str(ref), str(cur), "--log-to-mlflow")
    assert proc.returncode == 2
    assert proc.stdout == ""
    [line] = [x for x in proc.stderr.splitlines() if x.startswith("driftwarden check:")]
    assert "no MLflow tracking store given" in line
    assert "--config FILE" in line and "MLFLOW_TRACKING_URI" in line
    assert list(work.iterdir()) == []


@pytest.mark.slow
def test_validate_without_a_store_refuses_and_writes_nothing(
    tmp_path: Path, batches: tuple[Path, Path]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    labelled = tmp_path / "labelled.csv"
    pd.read_csv(batches[0]).assign(target=1).to_csv(labelled, index=False)
    proc = driftwarden(work, "validate", "--data", str(labelled))
    assert proc.returncode == 2, proc.stderr
    assert "no MLflow tracking store given" in proc.stderr
    assert list(work.iterdir()) == []


@pytest.mark.slow
def test_a_users_sqlite_store_keeps_its_artifacts_beside_it(
    tmp_path: Path, batches: tuple[Path, Path]
) -> None:
    """MLFLOW_TRACKING_URI names the store: artifacts go beside it, not to ./driftwarden-state.
    (The store exists, empty; a store that check creates is the announced-experiment test's.)"""
    work = tmp_path / "work"
    ref, cur = batches
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{fresh_store(work / 'mlflow.db')}"}
    proc = driftwarden(work, "check", str(ref), str(cur), "--log-to-mlflow", "--format", "json",
                       env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["mlflow_report_uri"].startswith(
        (work / "mlartifacts").as_uri() + "/"
    )
    assert sorted(p.name for p in work.iterdir()) == ["mlartifacts", "mlflow.db"]


def test_the_loader_marks_only_a_guessed_state_directory(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", '[model]\nname = "m"\n')
    assert load_settings(None, env={}).state_is_implicit
    assert not load_settings(cfg, env={}).state_is_implicit
    assert not load_settings(None, env={"STATE_DIRECTORY": str(tmp_path)}).state_is_implicit
