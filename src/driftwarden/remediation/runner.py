"""The retrain subprocess: ``mlflow run`` without a shell, in its own process group, killed at its timeout.

A crash or a hang of the training run cannot take the caller down: it runs in another
process, its output goes to a log file in the state directory, and at the timeout (or when
the caller cancels) the whole process group — ``mlflow run``, the shell MLflow starts for
the entry point and the training script — gets SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from driftwarden.config.model import RetrainConfig

KILL_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class ProcessOutcome:
    """How the subprocess ended: ``returncode`` is None when it was killed."""

    argv: list[str]
    returncode: int | None
    timed_out: bool
    cancelled: bool
    duration_seconds: float
    log_path: Path

    @property
    def ok(self) -> bool:
        """True when the process exited 0 on its own."""
        return self.returncode == 0 and not self.timed_out and not self.cancelled


def mlflow_run_argv(
    cfg: RetrainConfig, data_path: Path, run_name: str, mlflow_bin: str | None = None
) -> list[str]:
    """``mlflow run URI -e EP -P k=v ... -P <data_parameter>=<csv> --env-manager M --experiment-name E --run-name N``.

    The data parameter is always ours: a ``parameters`` entry of the same name is replaced.
    """
    assert cfg.project_uri is not None, "checked by the caller"
    argv = [mlflow_bin or mlflow_executable(), "run", cfg.project_uri, "-e", cfg.entry_point]
    for key, value in cfg.parameters.items():
        if key == cfg.data_parameter:
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        argv += ["-P", f"{key}={text}"]
    argv += ["-P", f"{cfg.data_parameter}={data_path}"]
    argv += ["--env-manager", cfg.env_manager]
    argv += ["--experiment-name", cfg.experiment_name, "--run-name", run_name]
    return argv


def mlflow_executable() -> str:
    """The ``mlflow`` script beside this interpreter (the venv's), else ``mlflow`` from PATH."""
    candidate = Path(sys.executable).parent / "mlflow"
    return str(candidate) if candidate.exists() else "mlflow"


def child_env(base: Mapping[str, str], mlflow_vars: Mapping[str, str]) -> dict[str, str]:
    """The run's environment: ours, MLflow's settings, this venv's bin first on PATH.

    With ``--env-manager local`` MLflow runs the entry point through a shell, so ``python``
    comes from PATH (MLFLOW.md). Run/experiment ids of a surrounding run are dropped so
    the project starts its own run.
    """
    env = {k: v for k, v in base.items() if k not in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID")}
    env.update(mlflow_vars)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(
        [bin_dir, *(p for p in env.get("PATH", "").split(os.pathsep) if p)]
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    timeout_seconds: float,
    cancel: threading.Event | None = None,
    on_poll: Callable[[], None] | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> ProcessOutcome:
    """Run ``argv`` (no shell) in a new session, wait at most ``timeout_seconds``, kill its group after.

    ``on_poll`` is called about once a second while the process runs (the cycle uses it
    to find and tag the MLflow run early); its exceptions are the caller's business.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log_path.open("ab") as log:
        log.write(f"$ {' '.join(argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
        )
        timed_out = cancelled = False
        next_poll = started
        while process.poll() is None:
            now = time.monotonic()
            if now - started >= timeout_seconds:
                timed_out = True
                break
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            if on_poll is not None and now >= next_poll:
                next_poll = now + 1.0
                on_poll()
            time.sleep(poll_seconds)
        if timed_out or cancelled:
            kill_group(process)
            why = "timeout" if timed_out else "cancelled"
            log.write(f"\n[driftwarden] killed process group {process.pid} ({why})\n".encode())
        else:
            # The leader exited; stragglers it left in its group go too.
            kill_group(process, grace=1.0)
    return ProcessOutcome(
        argv=list(argv),
        returncode=None if (timed_out or cancelled) else process.returncode,
        timed_out=timed_out,
        cancelled=cancelled,
        duration_seconds=time.monotonic() - started,
        log_path=log_path,
    )


def kill_group(process: subprocess.Popen[bytes], grace: float = KILL_GRACE_SECONDS) -> None:
    """SIGTERM the process group, SIGKILL what is left after ``grace`` seconds, reap the leader."""
    pgid = process.pid  # start_new_session: the leader's pid is the group id
    if group_alive(pgid) or process.poll() is None:
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and group_alive(pgid):
            process.poll()
            time.sleep(0.05)
        if group_alive(pgid):
            _signal_group(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL cannot be ignored
        process.wait(timeout=max(grace, 1.0))


def group_alive(pgid: int) -> bool:
    """True while any process of the group exists (zombies of our own leader excluded by reaping)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a member changed owner
        return True
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
