"""The subprocess runner: no shell, exit codes, and the whole process group dies at the timeout."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from driftwarden.config.model import RetrainConfig
from driftwarden.remediation.runner import child_env, mlflow_run_argv, run_process
from tests.support.processes import alive
from tests.support.prom_tools import wait_for


def test_argv_is_a_list_with_our_data_parameter_last_among_params() -> None:
    cfg = RetrainConfig(
        project_uri="/p r/oj; rm -rf /",
        entry_point="main",
        parameters={"num_trees": 10, "data_path": "ignored.csv", "flag": True},
        experiment_name="retrain exp",
    )
    argv = mlflow_run_argv(cfg, Path("/s/train.csv"), "driftwarden-retrain-x", mlflow_bin="mlflow")
    assert argv == [
        "mlflow", "run", "/p r/oj; rm -rf /", "-e", "main",
        "-P", "num_trees=10", "-P", "flag=true", "-P", "data_path=/s/train.csv",
        "--env-manager", "local", "--experiment-name", "retrain exp",
        "--run-name", "driftwarden-retrain-x",
    ]  # fmt: skip


def test_child_env_puts_this_venv_first_and_drops_outer_run_ids() -> None:
    env = child_env(
        {"PATH": "/usr/bin", "MLFLOW_RUN_ID": "outer", "KEEP": "1"}, {"MLFLOW_TRACKING_URI": "x"}
    )
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert "MLFLOW_RUN_ID" not in env
    assert env["KEEP"] == "1" and env["MLFLOW_TRACKING_URI"] == "x"


def test_exit_codes_and_output_go_to_the_log(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    ok = run_process(
        ["bash", "-c", "echo hello; echo oops >&2"],
        env=os.environ, cwd=tmp_path, log_path=log, timeout_seconds=30,
    )  # fmt: skip
    assert ok.ok and ok.returncode == 0
    assert "hello" in log.read_text() and "oops" in log.read_text()
    bad = run_process(
        ["bash", "-c", "exit 7"], env=os.environ, cwd=tmp_path, log_path=log, timeout_seconds=30
    )
    assert not bad.ok and bad.returncode == 7 and not bad.timed_out


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    outcome = run_process(
        ["bash", "-c", f"trap '' TERM; sleep 60 & echo $$ $! > {pids}; wait"],
        env=os.environ, cwd=tmp_path, log_path=tmp_path / "run.log", timeout_seconds=5.0,  # time for bash to start under load
    )  # fmt: skip
    assert outcome.timed_out and outcome.returncode is None and not outcome.ok
    shell, child = (int(p) for p in pids.read_text().split())
    # The shell ignored SIGTERM, so only the SIGKILL after the grace period ended it; its
    # child ignores SIGTERM too and would sleep for a minute more, but the group's SIGKILL
    # reached it as well (delivered asynchronously: it may take a moment under load).
    assert not alive(shell)
    wait_for(lambda: not alive(child), 10.0, "the shell's child to die of the group's SIGKILL")
    assert "killed process group" in (tmp_path / "run.log").read_text()


def test_cancel_kills_at_once(tmp_path: Path) -> None:
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    outcome = run_process(
        ["sleep", "60"], env=os.environ, cwd=tmp_path, log_path=tmp_path / "l", timeout_seconds=60,
        cancel=cancel,
    )  # fmt: skip
    assert outcome.cancelled and not outcome.timed_out
    assert time.monotonic() - started < 30


def test_on_poll_is_called_while_running(tmp_path: Path) -> None:
    calls: list[float] = []
    run_process(
        ["sleep", "1.5"], env=os.environ, cwd=tmp_path, log_path=tmp_path / "l",
        timeout_seconds=30, on_poll=lambda: calls.append(time.monotonic()),
    )  # fmt: skip
    assert len(calls) >= 1
