"""``driftwarden demo``: the whole loop, live, on an embedded MLflow store in a work directory.

Train and register the example model, start the daemon in this process (its main loop on
the main thread, so Ctrl-C stops it cleanly), then a driver thread drops a clean batch, a
drifted labelled batch and a fresh batch into the watched directory and tells what the
daemon does with them, from its events: drift found, alerts, the retrain, the gate's
decision, the promotion, the new model's validation. ``--once`` stops the daemon when the
loop has closed; without it the daemon keeps running until Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftwarden.config.model import Settings
from driftwarden.demo import findings
from driftwarden.demo.narrator import DemoTimeout, EventFeed, Narrator
from driftwarden.demo.workdir import (
    CHECK_EXPERIMENT,
    DemoPaths,
    example_project,
    prepare_workdir,
    register_first_model,
    split_example_data,
    train_first_model,
    write_config,
)
from driftwarden.events import Event, EventBus
from driftwarden.events import types as ev
from driftwarden.logs import setup_logging
from driftwarden.progress import with_progress

STEP_TIMEOUT = 90.0
RETRAIN_TIMEOUT = 420.0


def demo_command(args: argparse.Namespace) -> int:
    """Run the demo; 0 when the loop closed (drift found, retrain promoted, validation recovered)."""
    # Importing mlflow configures its loggers; do it before ours so our levels stick.
    import driftwarden.tracking.client  # noqa: F401

    started = time.monotonic()
    project = example_project()
    paths = prepare_workdir(args.workdir)
    log_stream = paths.daemon_log.open("a", encoding="utf-8")
    setup_logging(args.log_level or "INFO", args.log_format or "json", stream=log_stream)
    feed = EventFeed()
    logging.getLogger("driftwarden").addHandler(feed)
    try:
        return _demo(args, paths, project, feed, started)
    finally:
        logging.getLogger("driftwarden").removeHandler(feed)
        log_stream.close()


def _demo(
    args: argparse.Namespace, paths: DemoPaths, project: Path, feed: EventFeed, started: float
) -> int:
    from driftwarden.daemon.service.daemon import Daemon

    say(f"driftwarden demo: the whole loop on an embedded MLflow store, in {paths.workdir}")
    settings = write_config(paths, project)
    sizes = split_example_data(paths, project)
    say(
        f"[1/6] data: scikit-learn's breast-cancer set split into {sizes['train']} training rows"
        f" and three batches ({sizes['clean']} clean, {sizes['drifted']} drifted,"
        f" {sizes['fresh']} fresh) under {paths.data}"
    )
    say(f"      config: {paths.config} (MLflow store {settings.tracking_uri})")
    t0 = time.monotonic()
    _run_id, command = with_progress(
        "training the example model", train_first_model, settings, paths, project
    )
    say(f"[2/6] trained the example model in {time.monotonic() - t0:.0f} s: {command}")
    for line in register_first_model(settings):
        say(f"      {line}")

    bus = EventBus()
    bus.subscribe(feed)
    daemon = Daemon.build(settings, paths.config, bus=bus)
    outcome: dict[str, Any] = {"code": 1}

    def tell_story(daemon: Daemon) -> None:
        url = daemon.metrics_url
        say(
            f"[3/6] daemon started in this process: watching {paths.drops},"
            f" metrics at {url}/metrics, log {paths.daemon_log}"
        )
        story = Story(settings, paths, daemon, feed, url, once=args.once, started=started)
        threading.Thread(target=story.run, args=(outcome,), name="demo", daemon=True).start()

    daemon.run(on_started=tell_story)
    if daemon.flags.stop_signal is not None and not outcome.get("done"):
        say("stopped before the loop closed")
    return int(outcome["code"])


def say(text: str) -> None:
    print(text, flush=True)


class Story:
    """The driver thread: drop the batches in turn and tell what the daemon does."""

    def __init__(
        self,
        settings: Settings,
        paths: DemoPaths,
        daemon: Any,
        feed: EventFeed,
        url: str | None,
        once: bool,
        started: float,
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.daemon = daemon
        self.url = url
        self.once = once
        self.started = started
        self.report: Path | None = None
        self.narrator = Narrator(feed, say, on_drift=self.show_drift)

    def run(self, outcome: dict[str, Any]) -> None:
        try:
            outcome["code"] = self.story()
            outcome["done"] = True
        except DemoTimeout as exc:
            say(f"demo: {exc}; the daemon log has the details: {self.paths.daemon_log}")
        except Exception as exc:  # the daemon must still stop cleanly
            logging.getLogger(__name__).exception("demo driver failed")
            say(f"demo: failed: {type(exc).__name__}: {exc}")
        if self.once or not outcome.get("done"):
            self.daemon.flags.request_stop()
        else:
            say(
                f"The daemon keeps running: drop CSV files into {self.paths.drops}. Ctrl-C stops it."
            )

    def story(self) -> int:
        wait = self.narrator.wait_for
        first = wait(in_force(), STEP_TIMEOUT, "the production model to load")
        assert isinstance(first, ev.ModelInForce)
        version = first.version

        say("[4/6] dropping a clean labelled batch (same world as the training data)")
        self.drop("clean")
        wait(checked("clean.csv"), STEP_TIMEOUT, "the check of clean.csv")

        say(
            "[5/6] dropping a drifted labelled batch: size columns read 25% larger (covariate"
            " shift) and the labels are coded the other way round (concept shift)"
        )
        self.drop("drifted")
        wait(checked("drifted.csv"), STEP_TIMEOUT, "the check of drifted.csv")
        decision = wait(
            lambda e: isinstance(e, ev.RetrainDecided),
            RETRAIN_TIMEOUT,
            "the retrain cycle's decision",
        )
        promoted = isinstance(decision, ev.RetrainDecided) and decision.outcome == "promoted"
        if promoted:
            new = wait(
                lambda e: isinstance(e, ev.ModelInForce) and e.version != version,
                STEP_TIMEOUT,
                "the promoted model to come into force",
            )
            assert isinstance(new, ev.ModelInForce)
            version = new.version
            wait(
                lambda e: isinstance(e, ev.ValidationChecked) and version in e.reason,
                STEP_TIMEOUT,
                "the new model's validation",
            )
        else:
            say("      the challenger was not promoted; the champion stays")

        say("[6/6] dropping a fresh labelled batch from the changed world")
        self.drop("fresh")
        wait(checked("fresh.csv"), STEP_TIMEOUT, "the check of fresh.csv")
        self.narrator.drain(1.0)
        self.where_to_look()
        return 0 if promoted else 1

    def drop(self, name: str) -> None:
        """Copy a batch into the drop directory atomically (temp name, then rename)."""
        source = self.paths.batch(name)
        tmp = self.paths.drops / f".{name}.csv.tmp"
        tmp.write_bytes(source.read_bytes())
        os.replace(tmp, self.paths.drops / f"{name}.csv")

    def show_drift(self, checked: ev.FileChecked) -> None:
        """Top drifted features and the HTML report, read back from the check's MLflow run."""
        from driftwarden.tracking.client import configure_mlflow

        name = Path(checked.file).name
        client = configure_mlflow(self.settings)
        run = findings.find_drift_run(client, CHECK_EXPERIMENT, name, timeout=30.0)
        if run is None:
            say("      (the drift run has not reached MLflow yet; see the daemon log)")
            return
        say(f"      top drifted columns (MLflow run {run.info.run_id}):")
        for line in findings.top_features(run):
            say(f"        {line}")
        self.report = findings.report_path(run)

    def where_to_look(self) -> None:
        """Commands that work as printed (this interpreter's driftwarden and mlflow, by path)."""
        say(f"done: the loop closed in {time.monotonic() - self.started:.0f} s. Where to look:")
        for line in where_to_look(
            self.settings, self.paths.config, self.paths.daemon_log, self.report, self.url,
            live=not self.once,
        ):  # fmt: skip
            say(line)


def where_to_look(
    settings: Settings,
    config: Path,
    daemon_log: Path,
    report: Path | None,
    url: str | None,
    live: bool,
) -> list[str]:
    """The demo's closing lines: each command runs as shown, from any directory and PATH.

    The metrics endpoint lives only as long as the daemon: after ``--once`` (``live`` False)
    the samples read just before it stopped are shown, and no URL that would be dead.
    """
    lines = []
    if url is not None:
        if live:
            lines.append(f"  metrics:      {url}/metrics (live while the daemon runs)")
        else:
            lines.append(
                "  metrics:      read before the daemon stopped (its endpoint closed with it):"
            )
        names = (
            "driftwarden_production_model_version",
            "driftwarden_retrains_total",
            "driftwarden_dataset_drift",
        )
        lines += [f"                {line}" for line in scrape(url, names)]
    lines.append(f"  MLflow UI:    {ui_command(settings, free_port(5000))}")
    lines.append(f"  drift report: {report or '(not found in the artifact store)'}")
    lines.append(f"  status:       {status_command(config)}")
    lines.append(f"  daemon log:   {daemon_log}")
    return lines


def driftwarden_command() -> list[str]:
    """This installation's ``driftwarden``: the script beside the interpreter (the venv's), or
    the interpreter itself running the CLI module (works without the venv on PATH)."""
    script = Path(sys.executable).parent / "driftwarden"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "driftwarden.cli"]


def status_command(config: Path) -> str:
    return shlex.join([*driftwarden_command(), "status", "--config", str(config.absolute())])


def free_port(preferred: int) -> int:
    """``preferred`` when nothing listens there on 127.0.0.1, else a port that is free now."""
    import socket

    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def in_force() -> Callable[[Event], bool]:
    return lambda e: isinstance(e, ev.ModelInForce)


def checked(name: str) -> Callable[[Event], bool]:
    return lambda e: isinstance(e, ev.FileChecked) and Path(e.file).name == name


def scrape(url: str, names: tuple[str, ...]) -> list[str]:
    """The samples of ``names`` from the live /metrics endpoint."""
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError as exc:
        return [f"(could not read /metrics: {exc})"]
    return [
        line
        for line in text.splitlines()
        if line.startswith(names) and not line.startswith("#") and "_created" not in line
    ]


def ui_command(settings: Settings, port: int = 5000) -> str:
    """How to browse the demo's store (the venv's ``mlflow``, by path)."""
    from driftwarden.remediation.runner import mlflow_executable

    command = [mlflow_executable(), "ui", "--backend-store-uri", settings.tracking_uri]
    if settings.mlflow.artifact_location:
        command += ["--default-artifact-root", settings.mlflow.artifact_location]
    # One worker: one person browses the demo's store (the default starts four).
    return shlex.join([*command, "--host", "127.0.0.1", "--port", str(port), "--workers", "1"])
