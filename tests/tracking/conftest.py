"""Fixtures for the tracking tests: a migrated sqlite template and a store with trained runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.tracking.stores import Store, make_store, train_in_process


@pytest.fixture
def store(tmp_path: Path, store_template: Path) -> Store:
    """A fresh, empty store for one test."""
    return make_store(tmp_path, store_template)


@dataclass
class Trained:
    """A store with two real training runs of the example (10 trees, seeds 1 and 2)."""

    store: Store
    run_ids: list[str]
    scores: dict[str, float]

    @property
    def best_run_id(self) -> str:
        return max(self.run_ids, key=lambda r: (self.scores[r], r))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, store_template: Path) -> Trained:
    store = make_store(tmp_path_factory.mktemp("trained"), store_template)
    run_ids = [train_in_process(store, "--num-trees", "10", "--seed", str(seed)) for seed in (1, 2)]
    scores = {r: store.client.get_run(r).data.metrics["test_score"] for r in run_ids}
    return Trained(store, run_ids, scores)
