"""Exactly once across instances on one PostgreSQL: file claims, and fencing of every write
that speaks for a model by the lease epoch held (a paused owner's late writes are refused)."""

from __future__ import annotations

import threading

import pytest

from driftwarden.errors import LeaseLost
from driftwarden.state import CheckRecord, Fences, FileClaim, LeaseStore
from tests.support.prom_tools import wait_for
from tests.support.state_fixtures import StateSite

pytestmark = pytest.mark.integration


def _check(model: str = "m") -> CheckRecord:
    return CheckRecord(kind="drift", scope="file", model=model, outcome="ok", outbox_key="k")


def _own(leases: LeaseStore, fences: Fences, model: str, instance: str, ttl: float) -> int:
    lease = leases.acquire(model, instance, ttl)
    assert lease is not None, f"{instance} could not take {model}"
    fences.hold(model, lease.epoch)
    return lease.epoch


def _run_out(leases: LeaseStore, model: str) -> None:
    """Let ``model``'s lease run out now (its holder renews it for a moment, as a last
    renewal before a pause) and wait until it has on the database's clock.

    The leases are taken for long: a short one could run out before the test's own writes
    under load, which is timing luck, not the behaviour under test.
    """
    _last_renewal(leases, model)
    _wait_run_out(leases, model)


def _last_renewal(leases: LeaseStore, model: str) -> None:
    """The holder renews ``model``'s lease one last time, for a moment."""
    for lease in leases.leases():
        if lease.model == model:
            leases.renew(model, lease.owner, lease.epoch, 0.05)


def _wait_run_out(leases: LeaseStore, model: str) -> None:
    wait_for(
        lambda: all(le.remaining < 0 for le in leases.leases() if le.model == model),
        10,
        f"{model}'s lease to run out",
        interval=0.05,
    )


def test_racing_instances_claim_each_file_once(pg_site: StateSite) -> None:
    """Live instances that see the same drops: every file is claimed by exactly one."""
    names = ("a", "b", "c")
    ledgers = {name: pg_site.ledger(name) for name in names}
    leases = pg_site.leases()
    for name in names:
        leases.join(name, 60.0)
    claims: dict[str, list[tuple[int, FileClaim]]] = {name: [] for name in names}
    refused: dict[str, int] = dict.fromkeys(names, 0)
    barrier = threading.Barrier(len(names))

    def claim_all(name: str) -> None:
        barrier.wait()
        for i in range(40):
            try:
                claim = ledgers[name].begin_file(f"/d/{i}.csv", "/d", f"h{i}", 10, 1.0)
            except LeaseLost:
                refused[name] += 1
                continue
            claims[name].append((i, claim))

    threads = [threading.Thread(target=claim_all, args=(name,)) for name in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    won = sorted(i for name in names for i, c in claims[name] if c.kind == "new")
    assert won == list(range(40))
    assert all(c.kind == "new" for name in names for _, c in claims[name])
    assert sum(refused.values()) == 2 * 40
    assert len(ledgers["a"].files()) == 40


def test_writes_for_a_model_this_instance_does_not_own_are_refused(pg_site: StateSite) -> None:
    fences = Fences()
    ledger = pg_site.ledger("a", fences)
    with pytest.raises(LeaseLost, match="does not own it"):
        ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0, model="m")
    with pytest.raises(LeaseLost):
        ledger.record_check(_check())
    with pytest.raises(LeaseLost):
        ledger.record_alert("m", "dataset_drift", "firing")
    with pytest.raises(LeaseLost):
        ledger.record_retrain("m", "drift breach", "drift")
    assert ledger.files() == [] and ledger.checks() == [] and ledger.alerts() == []
    assert ledger.retrain_running("m") is None
    # A skip is a note, not a training run: recorded whoever owns the model.
    ledger.record_retrain("m", "drift breach", "drift", status="skipped_running")


def test_the_owner_writes_under_its_lease(pg_site: StateSite) -> None:
    fences, leases = Fences(), pg_site.leases()
    _own(leases, fences, "m", "a", 30.0)
    ledger = pg_site.ledger("a", fences)
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0, model="m")
    ledger.finish_file(claim.file_id, "done", checks=[_check()])
    ledger.record_alert("m", "dataset_drift", "firing")
    row = ledger.get_file(claim.file_id)
    assert row is not None and (row["model"], row["claimed_by"], row["status"]) == (
        "m",
        "a",
        "done",
    )
    assert [(c["model"], c["instance"]) for c in ledger.checks()] == [("m", "a")]


def test_a_paused_owner_cannot_commit_after_a_takeover(pg_site: StateSite) -> None:
    """A claims a file, stalls past its lease; B takes the model and redoes the file. A's late
    commit is refused inside its transaction, so the file is checked exactly once."""
    leases = pg_site.leases()
    fences_a, fences_b = Fences(), Fences()
    a, b = pg_site.ledger("a", fences_a), pg_site.ledger("b", fences_b)
    _own(leases, fences_a, "m", "a", 30.0)
    claim_a = a.begin_file("/d/a.csv", "/d", "h1", 10, 1.0, model="m")
    assert claim_a.kind == "new"
    _run_out(leases, "m")  # A is "paused" and renews nothing
    assert _own(leases, fences_b, "m", "b", 30.0) == 2
    claim_b = b.begin_file("/d/a.csv", "/d", "h1", 10, 1.0, model="m")
    assert (claim_b.kind, claim_b.file_id) == ("redo", claim_a.file_id)
    with pytest.raises(LeaseLost, match="held by 'b'"):
        a.finish_file(claim_a.file_id, "done", checks=[_check()])
    with pytest.raises(LeaseLost):
        a.record_alert("m", "dataset_drift", "firing")
    b.finish_file(claim_b.file_id, "done", checks=[_check()])
    assert [c["instance"] for c in b.checks()] == ["b"]
    assert b.alerts() == []


def test_a_lease_that_ran_out_fences_even_if_nobody_took_it(pg_site: StateSite) -> None:
    leases, fences = pg_site.leases(), Fences()
    epoch = _own(leases, fences, "m", "a", 30.0)
    ledger = pg_site.ledger("a", fences)
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0, model="m")
    _run_out(leases, "m")
    with pytest.raises(LeaseLost, match="ran out"):
        ledger.finish_file(claim.file_id, "done")
    assert leases.renew("m", "a", epoch, 30.0) is not None  # nobody took it: renewable
    ledger.finish_file(claim.file_id, "done")
    assert ledger.file_counts() == {"done": 1}


def test_a_restart_under_the_same_id_fences_the_old_process(pg_site: StateSite) -> None:
    """Two processes with one instance id (a restart while the old one still hangs): taking
    the lease again bumps the epoch, and the old process's writes are refused."""
    leases = pg_site.leases()
    old_fences, new_fences = Fences(), Fences()
    old, new = pg_site.ledger("a", old_fences), pg_site.ledger("a", new_fences)
    _own(leases, old_fences, "m", "a", 30.0)
    claim = old.begin_file("/d/a.csv", "/d", "h1", 10, 1.0, model="m")
    _own(leases, new_fences, "m", "a", 30.0)
    with pytest.raises(LeaseLost, match="epoch 1"):
        old.finish_file(claim.file_id, "done")
    redo = new.begin_file("/d/a.csv", "/d", "h1", 10, 1.0, model="m")
    assert (redo.kind, redo.file_id) == ("redo", claim.file_id)


def test_a_takeover_waits_for_a_commit_already_under_way(pg_site: StateSite) -> None:
    """The commit locks the lease row FOR SHARE: a takeover racing it waits, so the commit
    either lands before the takeover or is refused after it, never in between."""
    leases, fences = pg_site.leases(), Fences()
    _own(leases, fences, "m", "a", 30.0)
    ledger = pg_site.ledger("a", fences)
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0, model="m")
    assert pg_site.db is not None
    _last_renewal(leases, "m")  # before the lock below, which a renewal would wait on
    with pg_site.db.connect(autocommit=False) as conn:
        # A commit of A's in flight: the lease row is locked until this transaction ends.
        conn.execute("SELECT 1 FROM leases WHERE model = 'm' FOR SHARE")
        _wait_run_out(leases, "m")
        taken: list[object] = []
        b = threading.Thread(target=lambda: taken.append(pg_site.leases("b").acquire("m", "b", 30)))
        b.start()
        wait_for(lambda: _waits_on_a_lock(pg_site, "test b"), 10, "B's takeover to wait")
        assert taken == []
        conn.rollback()
    b.join(10)
    assert taken and taken[0] is not None
    with pytest.raises(LeaseLost):
        ledger.finish_file(claim.file_id, "done")


def _waits_on_a_lock(site: StateSite, application_name: str) -> bool:
    assert site.db is not None
    with site.db.connect() as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = %s"
            " AND wait_event_type = 'Lock'",
            (application_name,),
        ).fetchone()
    return bool(row and row[0])
