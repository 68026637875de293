"""SIGHUP: the config file applied again, by a table of sections, model by model.

Each ``[section]`` maps to how a change to it takes effect: ``LIVE`` (parts read it on use,
so the next job sees it), ``RESTART`` (kept as it was, with a warning: the state is opened,
the endpoint bound and the MLflow client built once), or a function that prepares the
change. The sections each kept model has its own of (``PER_MODEL``: its ``[model]`` keys,
``reference``, ``watch``, ``drift``, ``validation``, ``estimation``, ``retrain``) are compared
model by model; a model whose own keys changed (its name, alias, target, ...) gets a new
keeper, a ``[models.<name>]`` table added or removed starts or stops that model's keeper.
Preparing may fail (a reference file that does not read, a watch path that cannot be created, an
invalid cron): every change is prepared first, and only when all succeeded is anything
applied; otherwise the old config stays in force. Adding a section is one line in
``GLOBAL`` or ``PER_MODEL``. The log line says what changed, old → new, secrets redacted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from driftwarden.alerts.sinks import build_sinks
from driftwarden.config import load_settings
from driftwarden.config.load import redacted_dict
from driftwarden.config.model import Settings
from driftwarden.config.models import PER_MODEL
from driftwarden.config.runnable import check_runnable
from driftwarden.daemon.intake.reference import (
    Reference,
    load_file_reference,
    load_model_reference,
)
from driftwarden.daemon.intake.watcher import make_watch
from driftwarden.errors import ConfigError
from driftwarden.events.types import ConfigReloaded, ReloadRefused, ReloadStarted, RestartNeeded
from driftwarden.logs import setup_logging

if TYPE_CHECKING:
    from driftwarden.daemon.jobs.keeper import Keeper
    from driftwarden.daemon.service.daemon import Daemon


@dataclass(frozen=True)
class Change:
    """A prepared change: ``apply`` swaps it in; ``discard`` undoes the preparation (if any)."""

    apply: Callable[[], None]
    discard: Callable[[], None] | None = None


Prepare = Callable[["Daemon", Settings, Settings], Change | None]
# (daemon, the model's name, its settings before, after) -> the change for that model.
PrepareModel = Callable[["Daemon", str, Settings, Settings], Change | None]
LIVE: Literal["live"] = "live"
RESTART: Literal["restart"] = "restart"
BY_MODEL: Literal["by model"] = "by model"
REASON = "config reloaded"


def _reference(daemon: Daemon, model: str, old: Settings, new: Settings) -> Change | None:
    """``[reference]`` or ``[drift]``: the reference read or prepared again."""
    keeper = daemon.parts.keepers[model]
    current = keeper.reference.get()
    if new.reference.source == "file":
        reference = load_file_reference(new, keeper.reference.store)
        return Change(lambda: keeper.reference.set(reference))
    if old.reference.source != "model":  # now follows the model: load it at the next poll
        return Change(lambda: _follow_model(daemon, keeper))
    if new.drift != old.drift and current is not None:
        # The prepared reference fixes the tested columns: prepare the training data again.
        again = _prepare_again(keeper, new, current)
        return Change(lambda: keeper.reference.set(again))
    return None


def _prepare_again(keeper: Keeper, new: Settings, current: Reference) -> Reference:
    store = keeper.reference.store
    if store is not None and current.stored is not None:
        return store.prepare_again(new, current)
    assert current.file is not None, "a model's reference is prepared from its download"
    return load_model_reference(new, current.file, current.source.removeprefix("model version "))


def _follow_model(daemon: Daemon, keeper: Keeper) -> None:
    keeper.registry.forget_version()
    keeper.requests("registry_poll", "reference now follows the model")


def _watch(daemon: Daemon, model: str, old: Settings, new: Settings) -> Change:
    """``[watch]``: a new watch armed beside the old one (nothing slips between), then swapped."""
    watcher = make_watch(new.watch, daemon.flags.wake)
    watcher.start()

    def apply() -> None:
        daemon.parts.intake.replace(model, watcher)
        daemon.parts.intake.scan("watch changed", model)

    def discard() -> None:
        watcher.close()
        watcher.join(2.0)

    return Change(apply, discard)


def _new_keeper(daemon: Daemon, model: str, old: Settings, new: Settings) -> Change:
    """A model's own keys (name, alias, target, ...): its keeper is replaced by one built for
    the new settings (its alert state and version in force come back from the ledger)."""
    keepers = daemon.parts.keepers
    keeper = keepers.prepare(new.model.name, new)

    def apply() -> None:
        keepers.remove(model, REASON, forget=new.model.name != model)
        keepers.add(new.model.name, REASON, keeper)

    return Change(apply)


def _schedule(daemon: Daemon, old: Settings, new: Settings) -> Change:
    """``[schedule]``: triggers validated now, the jobs replaced on apply."""
    daemon.parts.scheduler.triggers(new.schedule)
    return Change(lambda: daemon.parts.scheduler.apply(new.schedule))


def _alerts(daemon: Daemon, old: Settings, new: Settings) -> Change:
    """``[alerts]``: the sinks built now (a missing secret refuses the reload), rules keep state."""
    generator = daemon.metrics_url + "/metrics" if daemon.metrics_url else None
    sinks = build_sinks(new.alerts, generator)

    def apply() -> None:
        for keeper in daemon.parts.keepers:
            keeper.alerts.rules.cfg = new.alerts
        daemon.parts.outlet.replace(sinks)

    return Change(apply)


def _logging(daemon: Daemon, old: Settings, new: Settings) -> Change:
    """``[logging]``: level and format (command-line flags still win)."""
    level, fmt = daemon.log_overrides
    return Change(lambda: setup_logging(level or new.logging.level, fmt or new.logging.format))


# [section] -> how a change to it takes effect, for the sections every model shares ...
GLOBAL: dict[str, Prepare | Literal["live", "restart"]] = {
    "mlflow": RESTART,
    "schedule": _schedule,
    "alerts": _alerts,
    "metrics": RESTART,
    "hooks": LIVE,
    "state": RESTART,
    "logging": _logging,
}
# ... and for those each model has its own of (compared model by model).
MODEL: dict[str, PrepareModel | Literal["live", "restart"]] = {
    "model": _new_keeper,
    "reference": _reference,
    "watch": _watch,
    "drift": _reference,
    "validation": LIVE,
    # Read per drop; the evaluation set is prepared again when the section changes.
    "estimation": LIVE,
    "retrain": LIVE,
}
# Every section of the file (a test checks none is missing).
SECTIONS: dict[str, object] = {**GLOBAL, **MODEL, "models": BY_MODEL}


@dataclass(frozen=True)
class ModelChange:
    """One kept model's changed sections: ``before``/``after`` are None when it is added/removed."""

    table: str  # its [models.<table>], or "" for the single [model]
    before: Settings | None
    after: Settings | None
    sections: dict[str, tuple[str, ...]]


def _tables(settings: Settings) -> dict[str, Settings]:
    """Each kept model's settings by the table that names it ("" for the single [model])."""
    kept = settings.kept_models()
    if not settings.models:
        return {"": next(iter(kept.values()))}
    return {table: kept[entry.name or table] for table, entry in settings.models.items()}


def model_changes(old: Settings, new: Settings) -> list[ModelChange]:
    """The models added, removed or changed (sections and ``key: old -> new`` lines)."""
    before, after = _tables(old), _tables(new)
    found: list[ModelChange] = []
    for table in [*before, *(t for t in after if t not in before)]:
        was, now = before.get(table), after.get(table)
        if was is None or now is None:
            found.append(ModelChange(table, was, now, {}))
            continue
        sections = {
            section: _lines(_view(was, section), _view(now, section), _prefix(table, section))
            for section in PER_MODEL
            if getattr(was, section) != getattr(now, section)
        }
        if sections:
            found.append(ModelChange(table, was, now, sections))
    return found


def _view(settings: Settings, section: str) -> Any:
    data = redacted_dict(settings)[section]
    return data


def _prefix(table: str, section: str) -> str:
    if not table:
        return section
    return f"models.{table}" if section == "model" else f"models.{table}.{section}"


def _lines(a: Any, b: Any, prefix: str) -> tuple[str, ...]:
    lines = tuple(f"{key}: {_show(x)} -> {_show(y)}" for key, (x, y) in _diff(a, b, prefix).items())
    return lines or (f"{prefix}: changed",)


def changes(old: Settings, new: Settings) -> dict[str, tuple[str, ...]]:
    """``{section: ("key: old -> new", ...)}`` for every section that differs, secrets redacted.

    A model's sections are named as the file names them: ``watch`` for the single
    ``[model]``, ``models.<table>.watch`` for a ``[models.<table>]`` one;
    ``models.<table>`` says that a table was added or removed.
    """
    before, after = redacted_dict(old), redacted_dict(new)
    found: dict[str, tuple[str, ...]] = {}
    for section in GLOBAL:
        if getattr(old, section) != getattr(new, section):
            found[section] = _lines(before[section], after[section], section)
    for change in model_changes(old, new):
        if change.before is None or change.after is None:
            what = "added" if change.before is None else "removed"
            found[f"models.{change.table}"] = (f"models.{change.table}: {what}",)
        for section, lines in change.sections.items():
            found[_prefix(change.table, section)] = lines
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


def _prepare(daemon: Daemon, old: Settings, new: Settings) -> Iterator[Change]:
    """Every change to prepare, in table order: the shared sections, then model by model."""
    done: list[Prepare] = []
    for section, how in GLOBAL.items():
        if (
            not isinstance(how, str)
            and how not in done
            and getattr(old, section) != getattr(new, section)
        ):
            done.append(how)
            change = how(daemon, old, new)
            if change is not None:
                yield change
    for model_change in model_changes(old, new):
        change = _prepare_model(daemon, model_change)
        if change is not None:
            yield change


def _prepare_model(daemon: Daemon, change: ModelChange) -> Change | None:
    was, now = change.before, change.after
    if now is None:
        assert was is not None
        return Change(lambda: _remove(daemon, was.model.name))
    if was is None:
        return _add(daemon, now)
    if "model" in change.sections:  # a new keeper takes every section of the new settings
        return _new_keeper(daemon, was.model.name, was, now)
    prepared: list[Change] = []
    done: list[PrepareModel] = []
    for section in change.sections:
        how = MODEL[section]
        if isinstance(how, str) or how in done:
            continue
        done.append(how)
        found = how(daemon, was.model.name, was, now)
        if found is not None:
            prepared.append(found)
    return _together(prepared)


def _add(daemon: Daemon, new: Settings) -> Change:
    """A ``[models.<name>]`` table added: its keeper built now, started on apply."""
    keepers = daemon.parts.keepers
    keeper = keepers.prepare(new.model.name, new)

    def apply() -> None:
        keepers.add(new.model.name, REASON, keeper)

    return Change(apply)


def _remove(daemon: Daemon, model: str) -> None:
    daemon.parts.keepers.remove(model, REASON)


def _together(changes: list[Change]) -> Change | None:
    if not changes:
        return None

    def apply() -> None:
        for change in changes:
            change.apply()

    def discard() -> None:
        for change in changes:
            if change.discard is not None:
                change.discard()

    return Change(apply, discard)


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
        restart = [s for s in changed if GLOBAL.get(s) == RESTART]
        for section in restart:
            setattr(new, section, getattr(old, section))
        for change in _prepare(daemon, old, new):
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
