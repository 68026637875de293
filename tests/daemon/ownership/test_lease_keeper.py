"""The lease keeper against a real PostgreSQL: holding, an outage of the database, rebalancing.

The outage test runs its own throw-away cluster (stopping the session's would cut every
other test on this worker) and stops its server for real.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from driftwarden.daemon.ownership.assignment import assign
from driftwarden.daemon.ownership.leases import LeaseKeeper, OwnershipHooks
from driftwarden.events import Recorder
from driftwarden.events import types as ev
from driftwarden.observability.http import HealthState
from driftwarden.observability.metrics import Metrics
from driftwarden.state import Fences, LeaseStore, Owner
from driftwarden.state.postgres import PostgresEngine
from driftwarden.state.postgres.connect import Target
from tests.support.postgres import PostgresCluster, PostgresDatabase, find_bindir

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("postgres")]

LEASE = 2.0


class Instance:
    """One instance's lease keeper with what it touches (fences, metrics, events, hooks)."""

    def __init__(self, db: PostgresDatabase, name: str, models: list[str]) -> None:
        self.name = name
        self.fences = Fences()
        self.metrics = Metrics()
        self.events = Recorder()
        self.calls: list[tuple[str, str]] = []
        engine = PostgresEngine(Target(db.dsn, db.password, f"test {name}"), Owner(name))
        self.store: LeaseStore = engine.leases()
        hooks = OwnershipHooks(
            lambda m: self.calls.append(("taken", m)), lambda m: self.calls.append(("lost", m))
        )
        self.keeper = LeaseKeeper(
            self.store, name, lambda: models, lambda: LEASE, self.fences, hooks, self.metrics,
            self.events, HealthState(60.0),
        )  # fmt: skip

    def owner_metric(self, model: str) -> float | None:
        value = self.metrics.registry.get_sample_value(
            "driftwarden_model_owner", {"model": model, "instance": self.name}
        )
        return None if value is None else float(value)

    def close(self) -> None:
        self.keeper.close()
        assert self.keeper.join(10.0)
        self.store.close()


@pytest.fixture
def instances(postgres_db: PostgresDatabase) -> Iterator[list[Instance]]:
    made: list[Instance] = []
    yield made
    for inst in reversed(made):
        inst.close()


def test_two_instances_share_four_models_two_each_and_a_clean_stop_hands_them_over(
    postgres_db: PostgresDatabase, instances: list[Instance]
) -> None:
    models = ["m1", "m2", "m3", "m4"]
    a, b = Instance(postgres_db, "a", models), Instance(postgres_db, "b", models)
    instances += [a, b]
    a.keeper.start()
    assert set(a.keeper.owned()) == set(models), "alone, an instance keeps every model"
    b.keeper.start()
    wanted = assign(models, ["a", "b"])
    deadline = time.monotonic() + 4 * LEASE
    while set(b.keeper.owned()) != {m for m in models if wanted[m] == "b"}:
        assert time.monotonic() < deadline, f"b owns {b.keeper.owned()}"
        time.sleep(0.05)
    assert set(a.keeper.owned()) == {m for m in models if wanted[m] == "a"}
    assert len(a.keeper.owned()) == len(b.keeper.owned()) == 2
    for m in models:  # exactly one holder per model, its epoch in its fences
        holder = a if wanted[m] == "a" else b
        other = b if holder is a else a
        assert holder.fences.epoch(m) is not None and other.fences.epoch(m) is None
        assert holder.owner_metric(m) == 1.0 and other.owner_metric(m) is None
    handed = [e.model for e in a.events.of(ev.OwnershipLost) if e.reason == "rebalanced"]
    assert sorted(handed) == sorted(m for m in models if wanted[m] == "b")

    a.close()
    instances.remove(a)
    deadline = time.monotonic() + LEASE  # a clean stop: no waiting for the lease to run out
    while set(b.keeper.owned()) != set(models):
        assert time.monotonic() < deadline, f"b owns {b.keeper.owned()} after a left"
        time.sleep(0.05)
    assert sorted(m for kind, m in b.calls if kind == "taken") == models
    leases = {le.model: le.owner for le in b.store.leases()}
    assert leases == dict.fromkeys(models, "b")


@pytest.mark.skipif(find_bindir() is None, reason="Debian's postgresql is not installed")
def test_a_database_outage_drops_the_lease_in_time_and_it_is_taken_back_after() -> None:
    cluster = PostgresCluster()
    cluster.start()
    inst: Instance | None = None
    try:
        db = cluster.create_database()
        inst = Instance(db, "a", ["m"])
        inst.keeper.start()
        assert inst.keeper.owns("m") and inst.fences.epoch("m") == 1
        cluster.pause()
        down = time.monotonic()
        inst.events.wait_for(ev.StateUnreachable, timeout=2 * LEASE)
        [lost] = inst.events.wait_for(ev.OwnershipLost, timeout=4 * LEASE)
        assert lost.reason == "ran out"
        # dropped once its time is up: the lease, plus a failed turn or two (1 s pool wait each)
        assert time.monotonic() - down <= 2 * LEASE + 1.5
        assert inst.fences.epoch("m") is None and inst.owner_metric("m") is None
        assert inst.calls == [("taken", "m"), ("lost", "m")]
        cluster.resume()
        inst.events.wait_for(ev.StateReachable, timeout=30)
        [_, again] = inst.events.wait_for(ev.OwnershipTaken, timeout=30, count=2)
        assert again.epoch == 2 and inst.fences.epoch("m") == 2
        assert inst.owner_metric("m") == 1.0
    finally:
        if inst is not None:
            inst.close()
        cluster.stop()
