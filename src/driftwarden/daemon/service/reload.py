"""SIGHUP: the config file applied again, by a table of sections.

Each ``[section]`` maps to how a change to it takes effect: ``LIVE`` (parts read it on use,
so the next job sees it), ``RESTART`` (kept as it was, with a warning: the model is loaded,
the state opened, the endpoint bound and the MLflow client built once), or a function that
prepares the change. Preparing may fail (a reference file that does not read, a watch path
that cannot be created, an invalid cron): every change is prepared first, and only when all
succeeded is anything applied; otherwise the old config stays in force. Adding a section is
one line in ``SECTIONS``. The log line says what changed, old → new, with secrets redacted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from driftwarden.alerts.sinks import build_sinks
from driftwarden.config import load_settings
from driftwarden.config.load import redacted_dict
from driftwarden.config.model import Settings
from driftwarden.config.runnable import check_runnable
from driftwarden.daemon.intake.reference import Reference, load_file_reference
from driftwarden.daemon.intake.watcher import make_watch
from driftwarden.errors import ConfigError
from driftwarden.events.types import ConfigReloaded, ReloadRefused, ReloadStarted, RestartNeeded
from driftwarden.logs import setup_logging

if TYPE_CHECKING:
    from driftwarden.daemon.service.daemon import Daemon


@dataclass(frozen=True)
class Change:
    """A prepared change: ``apply`` swaps it in; ``discard`` undoes the preparation (if any)."""

    apply: Callable[[], None]
    discard: Callable[[], None] | None = None


Prepare = Callable[["Daemon", Settings, Settings], Change | None]
LIVE: Literal["live"] = "live"
RESTART: Literal["restart"] = "restart"


def _reference(daemon: Daemon, old: Settings, new: Settings) -> Change | None:
    """``[reference]`` or ``[drift]``: the reference read or prepared again."""
    keeper = daemon.parts.keeper
    current = keeper.reference.get()
    if new.reference.source == "file":
        reference = load_file_reference(new)
        return Change(lambda: keeper.reference.set(reference))
    if old.reference.source != "model":  # now follows the model: load it at the next poll
        return Change(lambda: _follow_model(daemon))
    if new.drift != old.drift and current is not None:
        # The prepared reference fixes the tested columns: prepare the training data again.
        again = Reference.from_frame(current.frame, new, source=current.source)
        return Change(lambda: keeper.reference.set(again))
    return None


def _follow_model(daemon: Daemon) -> None:
    daemon.parts.keeper.registry.forget_version()
    daemon.request("registry_poll", "reference now follows the model")


def _watch(daemon: Daemon, old: Settings, new: Settings) -> Change:
    """``[watch]``: a new watch armed beside the old one (nothing slips between), then swapped."""
    watcher = make_watch(new.watch, daemon.flags.wake)
    watcher.start()

    def apply() -> None:
        daemon.parts.intake.replace(watcher)
        daemon.parts.intake.scan("watch changed")

    def discard() -> None:
        watcher.close()
        watcher.join(2.0)

    return Change(apply, discard)


def _schedule(daemon: Daemon, old: Settings, new: Settings) -> Change:
    """``[schedule]``: triggers validated now, the jobs replaced on apply."""
    daemon.parts.scheduler.triggers(new.schedule)
    return Change(lambda: daemon.parts.scheduler.apply(new.schedule))


def _alerts(daemon: Daemon, old: Settings, new: Settings) -> Change:
    """``[alerts]``: the sinks built now (a missing secret refuses the reload), rules keep state."""
    generator = daemon.metrics_url + "/metrics" if daemon.metrics_url else None
    sinks = build_sinks(new.alerts, generator)

    def apply() -> None:
        daemon.parts.keeper.alerts.rules.cfg = new.alerts
        daemon.parts.outlet.replace(sinks)

    return Change(apply)


def _logging(daemon: Daemon, old: Settings, new: Settings) -> Change:
    """``[logging]``: level and format (command-line flags still win)."""
    level, fmt = daemon.log_overrides
    return Change(lambda: setup_logging(level or new.logging.level, fmt or new.logging.format))


# [section] -> how a change to it takes effect. A test checks every section is here.
SECTIONS: dict[str, Prepare | Literal["live", "restart"]] = {
    "mlflow": RESTART,
    "model": RESTART,
    "reference": _reference,
    "watch": _watch,
    "schedule": _schedule,
    "drift": _reference,
    "validation": LIVE,
    # Read per drop; the evaluation set is prepared again when the section changes.
    "estimation": LIVE,
    "retrain": LIVE,
    "alerts": _alerts,
    "metrics": RESTART,
    "state": RESTART,
    "logging": _logging,
    "hooks": RESTART,  # the endpoint and its secret are set up with the metrics server
}


def changes(old: Settings, new: Settings) -> dict[str, tuple[str, ...]]:
    """``{section: ("key: old -> new", ...)}`` for every section that differs, secrets redacted."""
    before, after = redacted_dict(old), redacted_dict(new)
    found: dict[str, tuple[str, ...]] = {}
    for section in SECTIONS:
        if getattr(old, section) == getattr(new, section):
            continue
        lines = [
            f"{key}: {_show(a)} -> {_show(b)}"
            for key, (a, b) in _diff(before[section], after[section], section).items()
        ]
        found[section] = tuple(lines) or (f"{section}: changed",)
    return found


def _diff(a: Any, b: Any, prefix: str) -> dict[str, tuple[Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: dict[str, tuple[Any, Any]] = {}
        for key in sorted(set(a) | set(b), key=str):
            out.update(_diff(a.get(key), b.get(key), f"{prefix}.{key}"))
        return out
    return {} if a == b else {prefix: (a, b)}


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _preparations(changed: dict[str, tuple[str, ...]]) -> list[Prepare]:
    """The functions to run for the changed sections, each once, in table order."""
    found: list[Prepare] = []
    for section, how in SECTIONS.items():
        if section in changed and not isinstance(how, str) and how not in found:
            found.append(how)
    return found


def reload(daemon: Daemon) -> None:
    """Load and validate the file; prepare every change; apply all of them or none."""
    publish, notifier = daemon.bus.publish, daemon.parts.notifier
    notifier.reloading()
    publish(ReloadStarted(str(daemon.config_path)))
    old = daemon.settings
    prepared: list[Change] = []
    try:
        new = load_settings(daemon.config_path)
        check_runnable(new, where=str(daemon.config_path))
        changed = changes(old, new)
        restart = [s for s in changed if SECTIONS[s] == RESTART]
        for section in restart:
            setattr(new, section, getattr(old, section))
        for prepare in _preparations(changed):
            change = prepare(daemon, old, new)
            if change is not None:
                prepared.append(change)
    except Exception as exc:  # a reload never stops the daemon
        for change in prepared:
            if change.discard is not None:
                change.discard()
        why = str(exc) if isinstance(exc, ConfigError) else f"{type(exc).__name__}: {exc}"
        publish(ReloadRefused(str(daemon.config_path), why.replace("\n", "; ")))
        notifier.ready("reload refused: old config in force")
        return
    for section in restart:
        publish(RestartNeeded(section, changed.pop(section)))
    daemon.parts.settings.set(new)
    for change in prepared:
        change.apply()
    notifier.ready("config reloaded")
    lines = tuple(line for section in changed.values() for line in section)
    publish(ConfigReloaded(str(daemon.config_path), lines))
