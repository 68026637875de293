"""Two in-process daemons on one throw-away PostgreSQL and one shared drop directory.

One owns the model and checks the files; the other checks nothing until the owner is gone,
then takes over within the lease time. Whether anything was checked twice is judged by the
shared ledger (one ``done`` row and one drift check per file), never by logs.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftwarden.commands.status import collect_status, render_text
from driftwarden.daemon.ownership.assignment import assign
from driftwarden.daemon.ownership.leases import LeaseKeeper
from driftwarden.data.version import file_digest
from driftwarden.errors import LeaseLost
from driftwarden.events import types as ev
from driftwarden.state import Lease
from tests.support.daemon_proc import daemon_config, models_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.postgres import PostgresDatabase

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("postgres")]

LEASE_SECONDS = 2.0
PASSWORD_ENV = "DW_TEST_STATE_PASSWORD"
MODEL = "test-model"

Start = Callable[..., InProcessDaemon]


@pytest.fixture
def shared(
    tmp_path: Path, postgres_db: PostgresDatabase, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], Path]:
    """``config(instance)``: a daemon config on the shared database and drop directory."""
    monkeypatch.setenv(PASSWORD_ENV, postgres_db.password)
    drop = tmp_path / "shared-drop"
    drop.mkdir()

    def config(instance: str) -> Path:
        return daemon_config(
            tmp_path / instance,
            watch={"paths": [str(drop)]},
            state={
                "url": postgres_db.dsn,
                "password_env": PASSWORD_ENV,
                "lease_seconds": LEASE_SECONDS,
                "instance_id": instance,
            },
        )

    return config


def _owner(daemons: list[InProcessDaemon], timeout: float = 4 * LEASE_SECONDS) -> InProcessDaemon:
    """The daemon the assignment gives the model to, once it alone keeps it (the first to
    start may hold it until the second joins and the model moves over)."""
    by_id = {str(d.settings.state.instance_id): d for d in daemons}
    chosen = by_id[assign([MODEL], list(by_id))[MODEL]]
    deadline = time.monotonic() + timeout
    while True:
        owners = [d for d in daemons if _keeper(d).owns(MODEL)]
        if owners == [chosen]:
            return chosen
        assert time.monotonic() < deadline, f"owners after {timeout}s: {len(owners)}"
        time.sleep(0.05)


def _keeper(daemon: InProcessDaemon) -> LeaseKeeper:
    keeper = daemon.parts.leases
    assert isinstance(keeper, LeaseKeeper), "a PostgreSQL state has a lease keeper"
    return keeper


def _drop(directory: Path, names: list[str], seed: int) -> None:
    for i, name in enumerate(names):
        write_csv(directory / name, sample_frame(60, seed=seed + i))


def _done_once(daemon: InProcessDaemon, names: list[str]) -> dict[str, str]:
    """Each file's one ``done`` row in the shared ledger -> the instance that claimed it."""
    rows = daemon.parts.ledger.files()
    done = [r for r in rows if Path(r["path"]).name in names and r["status"] == "done"]
    per_name = Counter(Path(r["path"]).name for r in done)
    assert per_name == Counter(names), f"done rows per file: {per_name}"
    checks = daemon.parts.ledger.checks()
    per_file = Counter(c["file_id"] for c in checks if c["file_id"] in {r["id"] for r in done})
    assert all(per_file[r["id"]] == 1 for r in done), f"checks per file: {per_file}"
    return {Path(r["path"]).name: str(r["claimed_by"]) for r in done}


def test_one_owner_checks_and_the_other_takes_over_when_it_stops(
    tmp_path: Path, shared: Callable[[str], Path], start_daemon: Start
) -> None:
    a = start_daemon(shared("a"))
    b = start_daemon(shared("b"))
    owner = _owner([a, b])
    other = b if owner is a else a
    assert not _keeper(other).owns(MODEL)
    first = [f"first-{i}.csv" for i in range(3)]
    _drop(tmp_path / "shared-drop", first, seed=10)
    for name in first:
        owner.checked(name)
    assert other.events.of(ev.FileChecked) == [], "the instance that does not own checks nothing"
    metrics = owner.get("/metrics")[1]
    assert f'driftwarden_model_owner{{instance="{owner.settings.state.instance_id}"' in metrics
    assert "driftwarden_model_owner{" not in other.get("/metrics")[1]

    before = len(other.events.of(ev.OwnershipTaken))  # it may have held the model at start
    owner.stop()  # a clean stop gives the lease up at once
    stopped = time.monotonic()
    other.wait(ev.OwnershipTaken, timeout=2 * LEASE_SECONDS, count=before + 1)
    assert time.monotonic() - stopped <= 2 * LEASE_SECONDS
    second = [f"second-{i}.csv" for i in range(3)]
    _drop(tmp_path / "shared-drop", second, seed=20)
    for name in second:
        other.checked(name)
    claimed = _done_once(other, first + second)
    instance = other.settings.state.instance_id
    assert {claimed[n] for n in second} == {instance}
    assert {claimed[n] for n in first} == {owner.settings.state.instance_id}
    status = collect_status(other.settings)  # `driftwarden status` shows who owns what
    assert status["owners"]["models"][MODEL]["instance"] == instance
    assert status["owners"]["instances"] == [instance]
    assert f"owner of {MODEL}: {instance}" in render_text(status).splitlines()


class _Frozen:
    """The owner's lease store stops answering (as a process paused by SIGSTOP would).

    A fake for a fault an in-process daemon cannot cause otherwise: the lease keeper's
    calls block until ``thaw``; everything else in the process keeps running.
    """

    def __init__(self, keeper: LeaseKeeper, monkeypatch: pytest.MonkeyPatch) -> None:
        self._gate = threading.Event()
        store = keeper.store
        for name in ("join", "renew", "acquire"):
            real = getattr(store, name)
            monkeypatch.setattr(store, name, self._blocking(real))

    def _blocking(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self._gate.wait(60)
            return real(*args, **kwargs)

        return call

    def thaw(self) -> None:
        self._gate.set()


def test_a_frozen_owner_loses_the_model_and_its_late_writes_are_refused(
    tmp_path: Path,
    shared: Callable[[str], Path],
    start_daemon: Start,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = start_daemon(shared("a"))
    b = start_daemon(shared("b"))
    owner = _owner([a, b])
    other = b if owner is a else a
    stale = owner.settings.state.instance_id
    # The owner claims a file, then freezes before it can finish it (a half-done file).
    owner.parts.keeper.jobs.close()  # the claim below is the owner's last act
    path = tmp_path / "shared-drop" / "half-done.csv"
    write_csv(path, sample_frame(60, seed=5))
    st = path.stat()
    claim = owner.parts.ledger.begin_file(
        str(path), str(path.parent), file_digest(str(path)), st.st_size, st.st_mtime, model=MODEL
    )
    assert claim.kind == "new"
    before = len(other.events.of(ev.OwnershipTaken))  # it may have held the model at start
    frozen = _Frozen(_keeper(owner), monkeypatch)
    frozen_at = time.monotonic()
    *_, taken = other.wait(ev.OwnershipTaken, timeout=5 * LEASE_SECONDS, count=before + 1)
    assert time.monotonic() - frozen_at <= 2 * LEASE_SECONDS + 2.0  # the lease, a turn or two
    assert _keeper(owner).owns(MODEL), "the frozen owner still believes it owns the model"
    assert taken.epoch > owner.parts.leases.fences.epoch(MODEL)  # type: ignore[union-attr]

    other.checked("half-done.csv")  # the new owner redoes the file the frozen one left
    assert [Path(e.file).name for e in other.events.of(ev.FileRedo)] == ["half-done.csv"]
    with pytest.raises(LeaseLost):
        owner.parts.ledger.finish_file(claim.file_id, "done", result={"late": True})
    with pytest.raises(LeaseLost):
        owner.parts.ledger.begin_file(
            str(path), str(path.parent), "digest-of-another", 1, 1.0, model=MODEL
        )
    claimed = _done_once(other, ["half-done.csv"])
    assert claimed == {"half-done.csv": other.settings.state.instance_id}
    assert all(
        r["claimed_by"] != stale or r["status"] != "done" for r in owner.parts.ledger.files()
    )

    frozen.thaw()  # awake again: it learns the lease is gone and stops keeping the model
    lost = len(owner.events.of(ev.OwnershipLost))
    owner.wait(ev.OwnershipLost, timeout=4 * LEASE_SECONDS, count=lost + 1)
    assert not _keeper(owner).owns(MODEL)
    leases: list[Lease] = _keeper(other).store.leases()
    assert [(le.model, le.owner) for le in leases] == [(MODEL, other.settings.state.instance_id)]


def test_each_kept_model_has_its_own_lease_and_owner(
    tmp_path: Path,
    postgres_db: PostgresDatabase,
    monkeypatch: pytest.MonkeyPatch,
    start_daemon: Start,
) -> None:
    """Two instances keep the same two ``[models.<name>]``: the models are spread over them,
    each model's files are checked by its owner only, once; the other keeps its keeper
    idle (its queue takes no job)."""
    monkeypatch.setenv(PASSWORD_ENV, postgres_db.password)
    models = ["alpha", "beta"]
    drops = {m: tmp_path / f"shared-{m}" for m in models}

    def config(instance: str) -> Path:
        state = {
            "url": postgres_db.dsn, "password_env": PASSWORD_ENV,
            "lease_seconds": LEASE_SECONDS, "instance_id": instance,
        }  # fmt: skip
        tables = {m: {"watch": {"paths": [str(drops[m])]}} for m in models}
        return models_config(tmp_path / instance, tables, state=state)

    for drop in drops.values():
        drop.mkdir()
    daemons = {i: start_daemon(config(i)) for i in ("a", "b")}
    chosen = assign(models, list(daemons))
    assert set(chosen.values()) == {"a", "b"}, "two models over two instances: one each"
    deadline = time.monotonic() + 4 * LEASE_SECONDS
    while True:
        owners = {m: [i for i, d in daemons.items() if _keeper(d).owns(m)] for m in models}
        if owners == {m: [chosen[m]] for m in models}:
            break
        assert time.monotonic() < deadline, f"owners: {owners}"
        time.sleep(0.05)
    for model in models:
        _drop(drops[model], [f"{model}-1.csv"], seed=30)
    for model in models:
        owner = daemons[chosen[model]]
        assert owner.checked(f"{model}-1.csv").model == model
    claimed = _done_once(daemons["a"], [f"{m}-1.csv" for m in models])
    assert claimed == {f"{m}-1.csv": chosen[m] for m in models}
    for instance, daemon in daemons.items():
        assert daemon.parts.keepers.models == models  # each instance keeps both keepers
        checked = {e.model for e in daemon.events.of(ev.FileChecked)}
        assert checked == {m for m in models if chosen[m] == instance}
