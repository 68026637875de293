"""Run ``driftwarden run --config X`` as a real subprocess: start, wait for events, signal, stop.

The daemon logs JSON lines (``--log-format json``) to a file; each event's line carries its
name (``event``) and fields, so tests wait on events, never on message text, and never
sleep. ``daemon_config`` writes a small config that needs no registered model
(``reference.source = "file"``) and keeps start-up cheap (the metrics port is any free one:
read it from the ``daemon_ready`` event).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftwarden.config import load_settings
from tests.support.mlflow_store import prepare_default_store

FEATURES = ("x1", "x2", "cat")


def sample_frame(n: int, seed: int, shift: float = 0.0, target: bool = True) -> pd.DataFrame:
    """Rows from one fixed distribution (``shift`` moves x1 by that many sd)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x1": rng.normal(shift, 1.0, n).round(4),
            "x2": rng.normal(5.0, 2.0, n).round(4),
            "cat": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    if target:
        frame["target"] = (frame["x1"] + rng.normal(0, 0.5, n) > 0).astype(int)
    return frame


def write_csv(path: Path, frame: pd.DataFrame, atomic: bool = True) -> Path:
    """Write a drop; atomic: to a hidden temp name, then rename into place."""
    if atomic:
        tmp = path.with_name(f".{path.name}.tmp")
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    else:
        frame.to_csv(path, index=False)
    return path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def render_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Just enough TOML for test configs (nested tables of scalars and lists)."""
    scalars = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    out = ("\n".join(scalars) + "\n") if scalars else ""
    for key, value in data.items():
        if isinstance(value, dict):
            name = f"{prefix}.{key}" if prefix else key
            out += f"\n[{name}]\n" + render_toml(value, name)
    return out


def daemon_config(root: Path, **sections: dict[str, Any]) -> Path:
    """A config under ``root`` (drop dir, state dir, reference CSV); ``sections`` override keys."""
    drop = root / "drop"
    drop.mkdir(parents=True, exist_ok=True)
    reference = root / "reference.csv"
    if not reference.exists():
        sample_frame(400, seed=1).to_csv(reference, index=False)
    data: dict[str, Any] = {
        "model": {"name": "test-model", "target": "target"},
        "reference": {"source": "file", "path": str(reference)},
        "watch": {
            "paths": [str(drop)],
            "settle_seconds": 0.5,
            "rescan_interval_seconds": 2.0,
        },
        "schedule": {
            "drift": {"enabled": False},
            "validation": {"enabled": False},
            "registry_poll": {"enabled": False},
        },
        "metrics": {"port": 0},
        "state": {"directory": str(root / "state")},
        "logging": {"level": "INFO"},
    }
    for name, values in sections.items():
        merged = dict(data.get(name, {}))
        for key, value in values.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        data[name] = merged
    path = root / "driftwarden.toml"
    path.write_text(render_toml(data), encoding="utf-8")
    return path


def models_config(
    root: Path, models: dict[str, dict[str, Any]], **sections: dict[str, Any]
) -> Path:
    """``daemon_config`` with ``[models.<name>]`` tables instead of ``[model]``.

    Each model watches ``root/drop-<name>`` unless its table says otherwise; ``models`` maps
    a table's name to its keys (``{"a": {"drift": {"alpha": 0.01}}}``).
    """
    path = daemon_config(root, **sections)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    del data["model"]
    data["watch"]["paths"] = []
    data["models"] = {}
    for name, keys in models.items():
        drop = root / f"drop-{name}"
        drop.mkdir(parents=True, exist_ok=True)
        table: dict[str, Any] = {"target": "target", **keys}
        table["watch"] = {"paths": [str(drop)], **keys.get("watch", {})}
        data["models"][name] = table
    path.write_text(render_toml(data), encoding="utf-8")
    return path


class DaemonProcess:
    """``driftwarden run`` in a subprocess with its JSON log in ``log_path``."""

    def __init__(
        self,
        config: Path,
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
        log_format: str = "json",
    ) -> None:
        self.config = config
        self.log_format = log_format  # "text": events() sees raw lines; wait on log_text()
        self.log_path = log_path or config.with_suffix(".log")
        self.env = dict(os.environ, **(env or {}))
        self.process: subprocess.Popen[bytes] | None = None
        self._offset = 0
        self.metrics_url: str | None = None

    def start(self, wait_ready: bool = True, timeout: float = 60.0) -> DaemonProcess:
        prepare_default_store(load_settings(self.config, env={}))
        with self.log_path.open("ab") as log:
            self._offset = log.tell()
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "driftwarden.cli",
                    "--log-format",
                    self.log_format,
                    "run",
                    "--config",
                    str(self.config),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        if wait_ready and self.log_format == "json":
            [ready] = self.wait_event("daemon_ready", timeout=timeout)
            self.metrics_url = ready.get("metrics_url")
        elif wait_ready:  # text logs: the event's name and fields are key=value extras
            self.wait_until(
                lambda: "event=daemon_ready" in self.log_text(), timeout, "daemon ready"
            )
            found = re.search(r"event=daemon_ready.*?metrics_url=(\S+)", self.log_text())
            self.metrics_url = found.group(1) if found else None
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def events(self, since_start: bool = True) -> list[dict[str, Any]]:
        """Log lines of this run parsed as JSON (other lines as {"raw": text})."""
        if not self.log_path.exists():
            return []
        with self.log_path.open("rb") as handle:
            if since_start:
                handle.seek(self._offset)
            text = handle.read().decode("utf-8", "replace")
        out: list[dict[str, Any]] = []
        for line in text.splitlines():
            try:
                item = json.loads(line)
                out.append(item if isinstance(item, dict) else {"raw": line})
            except json.JSONDecodeError:
                out.append({"raw": line})
        return out

    def log_text(self) -> str:
        return (
            self.log_path.read_text(encoding="utf-8", errors="replace")
            if self.log_path.exists()
            else ""
        )

    def wait_for(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 30.0,
        what: str = "log line",
        count: int = 1,
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` log events match; fails with the log tail on timeout or exit."""
        deadline = time.monotonic() + timeout
        while True:
            matches = [e for e in self.events() if predicate(e)]
            if len(matches) >= count:
                return matches
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"daemon exited ({self.process.returncode}) before {what}:\n{self.log_text()[-4000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} x {what} (saw {len(matches)}):\n"
                    f"{self.log_text()[-4000:]}"
                )
            time.sleep(0.1)

    def wait_event(
        self, name: str, timeout: float = 30.0, count: int = 1, **fields: Any
    ) -> list[dict[str, Any]]:
        """Wait for ``count`` events called ``name`` whose fields equal ``fields``."""
        return self.wait_for(
            lambda e: e.get("event") == name and all(e.get(k) == v for k, v in fields.items()),
            timeout,
            what=f"event {name}" + (f" with {fields}" if fields else ""),
            count=count,
        )

    def named(self, name: str) -> list[dict[str, Any]]:
        """The events called ``name`` logged so far."""
        return [e for e in self.events() if e.get("event") == name]

    def wait_until(
        self, condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition"
    ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"daemon exited before {what}:\n{self.log_text()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}:\n{self.log_text()[-4000:]}"
                )
            time.sleep(0.1)

    def get(self, path: str) -> tuple[int, str]:
        """GET a path of the daemon's metrics endpoint."""
        assert self.metrics_url is not None, "started with wait_ready"
        try:
            with urllib.request.urlopen(self.metrics_url + path, timeout=2) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def send(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit code (kills and fails if it hangs)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
                raise AssertionError(
                    f"daemon ignored SIGTERM for {timeout}s:\n{self.log_text()[-4000:]}"
                ) from None
        return int(self.process.returncode)

    def kill(self) -> None:
        """SIGKILL: a crash, no clean-up."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
