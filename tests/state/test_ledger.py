"""The ledger's behaviour, the same on every engine: claims, exactly-once decisions,
duplicates, alerts, retrains and model versions (run on sqlite and on PostgreSQL)."""

from __future__ import annotations

from driftwarden.state import CheckRecord, Ledger
from tests.support.state_fixtures import StateSite


def test_new_file_is_claimed_then_finished_then_moved(state_site: StateSite) -> None:
    ledger = state_site.ledger()
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    assert claim.kind == "new"
    check = CheckRecord(kind="drift", scope="file", model="m", outcome="ok", outbox_key="k1")
    ledger.finish_file(claim.file_id, "done", result={"dataset_drift": False}, checks=[check])
    ledger.mark_moved(claim.file_id, "/d/processed/a.csv")
    row = ledger.get_file(claim.file_id)
    assert row is not None and row["status"] == "done" and row["moved"] == 1
    assert [c["outbox_key"] for c in ledger.checks(file_id=claim.file_id)] == ["k1"]
    assert ledger.file_counts() == {"done": 1}


def test_row_left_processing_is_redone_not_duplicated(state_site: StateSite) -> None:
    ledger = state_site.ledger()
    first = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    ledger.close()  # a crash: no finish_file
    ledger = state_site.ledger()
    assert [r["path"] for r in ledger.processing()] == ["/d/a.csv"]
    again = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    assert again.kind == "redo" and again.file_id == first.file_id
    assert len(ledger.files()) == 1


def test_finished_but_not_moved_only_needs_the_move(state_site: StateSite) -> None:
    ledger = state_site.ledger()
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    ledger.finish_file(claim.file_id, "quarantined", reason="bad")
    again = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    assert again.kind == "finish_move" and again.status == "quarantined" and again.reason == "bad"


def test_same_content_under_another_name_is_a_duplicate(state_site: StateSite) -> None:
    ledger = state_site.ledger()
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    ledger.finish_file(claim.file_id, "done")
    ledger.mark_moved(claim.file_id, "/d/processed/a.csv")
    dup = ledger.begin_file("/d/b.csv", "/d", "h1", 10, 2.0)
    assert dup.kind == "duplicate" and dup.duplicate_of == claim.file_id
    # The same name dropped again with the same content after the first moved away.
    again = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 3.0)
    assert again.kind == "duplicate"
    # New content under an old name is a new file.
    assert ledger.begin_file("/d/a.csv", "/d", "h2", 11, 4.0).kind == "new"


def test_kept_file_is_ignored_on_rescan(state_site: StateSite) -> None:
    ledger = state_site.ledger()
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    ledger.finish_file(claim.file_id, "done")
    ledger.mark_moved(claim.file_id, "/d/a.csv")
    assert ledger.is_kept_unchanged("/d/a.csv", 10, 1.0)
    assert not ledger.is_kept_unchanged("/d/a.csv", 11, 1.0)
    assert ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0).kind == "ignore"


def test_retrain_records_for_remediation(state_site: StateSite) -> None:
    ledger = state_site.ledger()
    assert ledger.retrain_running("m") is None and ledger.last_retrain("m") is None
    rid = ledger.record_retrain("m", reason="drift", trigger="drift")
    assert ledger.retrain_running("m")["id"] == rid  # type: ignore[index]
    ledger.finish_retrain(rid, "promoted", run_id="r1", candidate_version="3", detail={"gain": 0.1})
    assert ledger.retrain_running("m") is None
    last = ledger.last_retrain("m")
    assert last is not None and last["status"] == "promoted" and last["detail"] == {"gain": 0.1}
    ledger.record_retrain("m", reason="drift", status="skipped_cooldown")
    assert ledger.last_retrain("m", finished_only=True)["id"] == rid  # type: ignore[index]
    stale = ledger.record_retrain("m", reason="x")
    assert ledger.fail_stale_retrains() == 1
    assert ledger.last_retrain("m")["id"] == stale  # type: ignore[index]
    assert ledger.last_retrain("m")["status"] == "failed"  # type: ignore[index]


def test_model_versions_report_changes(state_site: StateSite) -> None:
    ledger = state_site.ledger()
    assert ledger.record_model_version("m", "1", "r1", "alias")
    assert not ledger.record_model_version("m", "1", "r1", "alias")
    assert ledger.record_model_version("m", "2", "r2", "alias")
    assert ledger.record_model_version("m", "1", "r1", "alias")  # a rollback is a change
    assert ledger.last_model_version("m")["version"] == "1"  # type: ignore[index]


def test_firing_alerts_are_those_not_resolved_since(state_site: StateSite) -> None:
    ledger = state_site.ledger()
    ledger.record_alert("m", "dataset_drift", "firing", summary="drift 1")
    ledger.record_alert("m", "dataset_drift", "firing", summary="drift 2")  # a repeat
    ledger.record_alert("m", "stale", "firing", summary="stale")
    ledger.record_alert("m", "stale", "resolved", summary="stale")
    ledger.record_alert(
        "m", "validation_below_minimum", "firing", labels={"metric": "accuracy"}, summary="acc"
    )
    ledger.record_alert("m", "validation_below_minimum", "firing", labels={"metric": "f1"})
    ledger.record_alert("m", "validation_below_minimum", "resolved", labels={"metric": "f1"})
    ledger.record_alert("other", "dataset_drift", "firing")
    ledger.close()
    firing = {(a["rule"], a["key"]): a for a in state_site.ledger().firing_alerts("m")}
    assert set(firing) == {("dataset_drift", ""), ("validation_below_minimum", "accuracy")}
    drift = firing[("dataset_drift", "")]
    assert drift["summary"] == "drift 2" and drift["started_at"] <= drift["last_sent"]


def test_training_activity_counts_cycles_that_trained_only(state_site: StateSite) -> None:
    ledger = state_site.ledger()
    assert ledger.last_training_activity("m") is None
    ledger.record_retrain("m", "drift breach", "drift", status="skipped_cooldown")
    ledger.record_retrain("m", "drift breach", "drift", status="failed")  # ended before training
    assert ledger.last_training_activity("m") is None
    running = ledger.record_retrain("m", "drift breach", "drift")  # training starts
    started = ledger.last_training_activity("m")
    assert started is not None
    ledger.finish_retrain(running, "rejected")
    finished = ledger.last_training_activity("m")
    assert finished is not None and finished >= started
    assert ledger.last_training_activity("other-model") is None


def test_files_claimed_for_a_model_behave_the_same(state_site: StateSite) -> None:
    """``model=`` only says whose drop it is; an unfenced writer claims as before."""
    ledger = state_site.ledger()
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0, model="m")
    assert claim.kind == "new"
    assert ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0, model="m").kind == "redo"
    ledger.finish_file(claim.file_id, "done")
    assert ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0, model="m").kind == "finish_move"


def test_stale_retrains_of_one_model_are_failed_alone(state_site: StateSite) -> None:
    ledger = state_site.ledger()
    mine = ledger.record_retrain("m", reason="drift breach", trigger="drift")
    other = ledger.record_retrain("other", reason="drift breach", trigger="drift")
    assert ledger.fail_stale_retrains(model="m") == 1
    assert ledger.retrain_running("m") is None
    assert ledger.retrain_running("other")["id"] == other  # type: ignore[index]
    assert ledger.last_retrain("m")["id"] == mine  # type: ignore[index]
    assert ledger.last_retrain("m")["detail"] == {"error": "daemon restarted while it ran"}  # type: ignore[index]


def test_a_readonly_ledger_reads_what_a_writer_wrote(state_site: StateSite) -> None:
    writer = state_site.ledger()
    claim = writer.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    check = CheckRecord(kind="drift", scope="file", model="m", outcome="drift", outbox_key="k")
    writer.finish_file(claim.file_id, "done", checks=[check])
    writer.record_model_version("m", "3", "r3", "alias")
    reader = state_site.ledger(readonly=True)
    assert reader.readonly
    assert reader.file_counts() == {"done": 1}
    assert [c["outcome"] for c in reader.checks(limit=5)] == ["drift"]
    assert reader.last_model_version("m")["version"] == "3"  # type: ignore[index]


def test_the_retrain_lock_is_single_flight_per_model(state_site: StateSite) -> None:
    engine = state_site.engine()
    with engine.retrain_lock("m").hold() as first:
        assert first
        with state_site.engine("i2").retrain_lock("m").hold() as second:
            assert not second
    with engine.retrain_lock("m").hold() as again:
        assert again


# ---- many models in one daemon: each query that takes ``model`` reads that model's rows --


def _done(ledger: Ledger, path: str, digest: str, model: str, target: bool = False) -> int:
    claim = ledger.begin_file(path, "/d", digest, 10, 1.0, model=model)
    assert claim.kind == "new"
    check = CheckRecord(kind="drift", scope="file", model=model, outcome="ok", outbox_key=path)
    ledger.finish_file(claim.file_id, "done", has_target=target, checks=[check])
    ledger.mark_moved(claim.file_id, path + ".done")
    return claim.file_id


def test_the_same_content_for_another_model_is_not_a_duplicate(state_site: StateSite) -> None:
    """Each model checks a drop against its own reference."""
    ledger = state_site.ledger()
    first = _done(ledger, "/d/a/x.csv", "h1", "a")
    other = ledger.begin_file("/d/b/x.csv", "/d", "h1", 10, 2.0, model="b")
    assert other.kind == "new"
    again = ledger.begin_file("/d/a/y.csv", "/d", "h1", 10, 3.0, model="a")
    assert again.kind == "duplicate" and again.duplicate_of == first


def test_files_checks_and_alerts_are_read_by_model(state_site: StateSite) -> None:
    ledger = state_site.ledger()
    a1 = _done(ledger, "/d/a/1.csv", "h1", "a", target=True)
    b1 = _done(ledger, "/d/b/1.csv", "h2", "b", target=True)
    a2 = _done(ledger, "/d/a/2.csv", "h3", "a")
    ledger.begin_file("/d/b/2.csv", "/d", "h4", 10, 1.0, model="b")  # still processing
    assert [r["id"] for r in ledger.recent_done_files(5, model="a")] == [a2, a1]
    assert [r["id"] for r in ledger.recent_done_files(5, with_target=True, model="a")] == [a1]
    assert [r["id"] for r in ledger.recent_done_files(5)] == [a2, b1, a1]
    assert ledger.file_counts("a") == {"done": 2}
    assert ledger.file_counts("b") == {"done": 1, "processing": 1}
    assert ledger.file_counts() == {"done": 3, "processing": 1}
    assert [c["outbox_key"] for c in ledger.checks(model="b")] == ["/d/b/1.csv"]
    assert ledger.last_success_time("a") is not None and ledger.last_success_time("c") is None
    ledger.record_alert("a", "stale", "firing")
    ledger.record_alert("b", "drift", "firing")
    assert [r["rule"] for r in ledger.alerts(model="a")] == ["stale"]
    assert [r["model"] for r in ledger.alerts()] == ["b", "a"]


def test_check_history_reads_the_same_on_every_engine(state_site: StateSite) -> None:
    """Per-feature numbers, ``since``, and the MLflow run noted by outbox key."""
    ledger = state_site.ledger()
    features = ({"feature": "x", "test": "ks", "p_value": 0.01, "drifted": True},)
    for model, at, key in (("m", 1000.0, "a"), ("other", 2000.0, "b"), ("m", 3000.0, "c")):
        check = CheckRecord(
            kind="drift", scope="file", model=model, outcome="drift", outbox_key=key,
            started_at=at - 1, finished_at=at, features=features, features_left_out=2,
        )  # fmt: skip
        ledger.record_check(check)
    ledger.record_check_run("c", "run-c", "7")
    ledger.record_check_run("c", "run-c", "7")  # a replay notes it again
    assert [r["outbox_key"] for r in ledger.checks(model="m", since=1500.0)] == ["c"]
    newest, *_ = ledger.checks(limit=2)
    assert (newest["run_id"], newest["experiment_id"]) == ("run-c", "7")
    assert newest["features"][0]["feature"] == "x" and newest["features_left_out"] == 2
    assert ledger.checks(model="other")[0]["run_id"] is None
