"""Leases: one owner per model, renewals keep the epoch, takeovers bump it; membership.

The first tests hold on both engines (on sqlite one instance owns everything); the rest are
what sharing one PostgreSQL adds."""

from __future__ import annotations

import threading

import pytest

from driftwarden.state import Lease
from tests.support.prom_tools import wait_for
from tests.support.state_fixtures import StateSite


def test_an_instance_takes_renews_and_gives_up_a_lease(state_site: StateSite) -> None:
    leases = state_site.leases()
    assert leases.join("a", 30.0).live == ("a",)
    taken = leases.acquire("m", "a", 30.0)
    assert taken is not None and (taken.owner, taken.epoch) == ("a", 1)
    renewed = leases.renew("m", "a", taken.epoch, 30.0)
    assert renewed is not None and renewed.epoch == 1 and renewed.remaining > 20
    assert [(le.model, le.owner) for le in leases.leases()] == [("m", "a")]
    leases.release("m", "a", taken.epoch)
    again = leases.acquire("m", "a", 30.0)
    assert again is not None and again.epoch == 2  # every take bumps the epoch
    assert leases.renew("m", "a", 1, 30.0) is None  # the old epoch is gone
    assert "a" in leases.instances()


@pytest.mark.integration
def test_a_live_lease_is_not_taken_and_a_run_out_one_is(pg_site: StateSite) -> None:
    leases = pg_site.leases()
    first = leases.acquire("m", "a", 30.0)
    assert first is not None
    assert leases.acquire("m", "b", 30.0) is None
    assert leases.renew("m", "a", first.epoch, 0.05) is not None  # a's last renewal, short
    wait_for(lambda: leases.leases()[0].remaining < 0, 10, "the lease to run out", 0.05)
    second = leases.acquire("m", "b", 30.0)
    assert second is not None and (second.owner, second.epoch) == ("b", 2)
    assert leases.renew("m", "a", first.epoch, 30.0) is None  # A lost it for good


@pytest.mark.integration
def test_exactly_one_of_many_racing_instances_takes_a_free_model(pg_site: StateSite) -> None:
    stores = [pg_site.leases(f"i{n}") for n in range(6)]
    barrier = threading.Barrier(len(stores))
    results: list[Lease | None] = []
    lock = threading.Lock()

    def race(n: int) -> None:
        barrier.wait()
        got = stores[n].acquire("m", f"i{n}", 30.0)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [r for r in results if r is not None]
    assert len(results) == 6 and len(winners) == 1 and winners[0].epoch == 1


@pytest.mark.integration
def test_membership_lists_live_instances_and_forgets_those_that_leave(pg_site: StateSite) -> None:
    leases = pg_site.leases()
    leases.join("a", 30.0)
    joined = leases.join("b", 0.5)
    assert joined.live == ("a", "b") and joined.next_expiry is not None
    assert 29 < joined.next_expiry <= 30  # a's membership runs out next, for b
    assert leases.acquire("m", "a", 30.0) is not None
    leases.leave("a")  # a clean stop: its leases run out now
    assert set(leases.instances()) == {"b"}
    taken = leases.acquire("m", "b", 30.0)
    assert taken is not None and taken.owner == "b"
    wait_for(lambda: "b" not in leases.instances(), 10, "b to run out", 0.05)
