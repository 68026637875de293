"""Registry functions on a real sqlite store: best run, idempotent registration, alias, stage."""

from __future__ import annotations

import time

import pytest
from mlflow.entities import Metric

from driftwarden.tracking.registry import (
    find_best_run,
    get_version,
    get_version_by_alias,
    get_version_by_stage,
    register_run,
    set_alias,
    tag_version,
    transition_stage,
    versions_of_run,
)
from tests.tracking.conftest import Trained
from tests.tracking.stores import Store

# One worker runs the module, so its module-scoped trained store is built once.
pytestmark = pytest.mark.xdist_group("registry_trained")


def _run_with(store: Store, experiment_id: str, status: str = "FINISHED", **metrics: float) -> str:
    """A run with only metrics (enough for searching; not registrable)."""
    run = store.client.create_run(experiment_id)
    stamp = int(time.time() * 1000)
    store.client.log_batch(
        run.info.run_id, metrics=[Metric(k, v, stamp, 0) for k, v in metrics.items()]
    )
    store.client.set_terminated(run.info.run_id, status)
    return run.info.run_id


def test_find_best_run_takes_the_highest_metric_above_the_threshold(store: Store) -> None:
    exp = store.client.create_experiment("search")
    _run_with(store, exp, test_score=0.75)
    best = _run_with(store, exp, test_score=0.91)
    _run_with(store, exp, test_score=0.85)
    _run_with(store, exp, status="FAILED", test_score=0.99)  # failed runs never qualify
    _run_with(store, exp, other=0.99)  # no such metric

    run = find_best_run(store.client, "search", "test_score", 0.8)

    assert run is not None
    assert run.info.run_id == best


def test_find_best_run_threshold_is_strict_and_ties_go_to_the_newest(store: Store) -> None:
    exp = store.client.create_experiment("ties")
    _run_with(store, exp, test_score=0.8)
    assert find_best_run(store.client, "ties", "test_score", 0.8) is None
    _run_with(store, exp, test_score=0.9)
    time.sleep(0.01)
    newest = _run_with(store, exp, test_score=0.9)

    run = find_best_run(store.client, "ties", "test_score", 0.8)

    assert run is not None and run.info.run_id == newest


def test_find_best_run_returns_none_for_unknown_experiment(store: Store) -> None:
    assert find_best_run(store.client, "no-such-experiment", "test_score", 0.0) is None


def test_find_best_run_quotes_metric_names_that_need_it(store: Store) -> None:
    exp = store.client.create_experiment("odd-names")
    run_id = _run_with(store, exp, **{"val-acc": 0.9})

    run = find_best_run(store.client, "odd-names", "val-acc", 0.5)

    assert run is not None and run.info.run_id == run_id


def test_register_run_is_idempotent(trained: Trained) -> None:
    client = trained.store.activate()
    run_id = trained.run_ids[0]

    first = register_run(client, run_id, "idem-model")
    second = register_run(client, run_id, "idem-model")

    assert first.version == second.version == "1"
    assert [v.version for v in versions_of_run(client, "idem-model", run_id)] == ["1"]
    assert first.run_id == run_id
    # Another run is a new version.
    other = register_run(client, trained.run_ids[1], "idem-model")
    assert other.version == "2"


def test_registered_version_loads_as_the_trained_model(trained: Trained) -> None:
    import mlflow.pyfunc

    client = trained.store.activate()
    version = register_run(client, trained.run_ids[0], "load-model")
    set_alias(client, "load-model", "production", version.version)

    model = mlflow.pyfunc.load_model("models:/load-model@production")

    assert model.metadata.run_id == trained.run_ids[0]


def test_alias_moves_and_missing_alias_is_none(trained: Trained) -> None:
    client = trained.store.activate()
    v1 = register_run(client, trained.run_ids[0], "alias-model")
    v2 = register_run(client, trained.run_ids[1], "alias-model")
    assert get_version_by_alias(client, "alias-model", "production") is None
    assert get_version_by_alias(client, "no-such-model", "production") is None

    set_alias(client, "alias-model", "production", v1.version)
    found = get_version_by_alias(client, "alias-model", "production")
    assert found is not None and found.version == v1.version
    set_alias(client, "alias-model", "production", v2.version)
    found = get_version_by_alias(client, "alias-model", "production")
    assert found is not None and found.version == v2.version


def test_stage_transition_archives_the_previous_version(trained: Trained) -> None:
    client = trained.store.activate()
    v1 = register_run(client, trained.run_ids[0], "stage-model")
    v2 = register_run(client, trained.run_ids[1], "stage-model")
    assert get_version_by_stage(client, "stage-model", "Production") is None

    transition_stage(client, "stage-model", v1.version, "Production")
    transition_stage(client, "stage-model", v2.version, "Production")

    current = get_version_by_stage(client, "stage-model", "Production")
    assert current is not None and current.version == v2.version
    old = get_version(client, "stage-model", v1.version)
    assert old is not None and old.current_stage == "Archived"


def test_tag_version_sets_string_tags(trained: Trained) -> None:
    client = trained.store.activate()
    v = register_run(client, trained.run_ids[0], "tag-model")

    tag_version(client, "tag-model", v.version, {"gate": "passed", "accuracy": 0.9})

    found = get_version(client, "tag-model", v.version)
    assert found is not None
    assert found.tags == {"gate": "passed", "accuracy": "0.9"}


def test_register_run_without_a_model_is_an_error(store: Store) -> None:
    from mlflow.exceptions import MlflowException

    run_id = _run_with(store, store.train_experiment_id, test_score=0.9)
    with pytest.raises(MlflowException, match="no model named 'model'"):
        register_run(store.client, run_id, "nothing")
