"""The PostgreSQL fixtures themselves: a real cluster, fresh databases, MLflow on PostgreSQL."""

from __future__ import annotations

import os
import urllib.request
import uuid

import psycopg
import pytest

from tests.support.mlflow_server import MlflowServer
from tests.support.postgres import PostgresCluster, PostgresDatabase

# One worker runs every module on the session's `mlflow server`s (sqlite and PostgreSQL),
# so each server starts once (each start costs seconds of CPU).
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("mlflow_servers")]


def test_cluster_accepts_the_password_and_refuses_a_wrong_one(
    postgres_cluster: PostgresCluster,
) -> None:
    db = postgres_cluster.database()
    with db.connect() as conn:
        listen, version = conn.execute(
            "SELECT current_setting('listen_addresses'), current_setting('server_version_num')"
        ).fetchone()  # type: ignore[misc]
    assert listen == "127.0.0.1"
    assert int(version) >= 130000  # DROP DATABASE ... WITH (FORCE) needs 13
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(db.dsn, password="wrong", connect_timeout=10)


def test_password_can_come_from_the_environment(
    postgres_cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The way the daemon and the MLflow server get it: PGPASSWORD, not the URL."""
    db = postgres_cluster.database()
    monkeypatch.setenv("PGPASSWORD", db.env()["PGPASSWORD"])
    with psycopg.connect(db.dsn, connect_timeout=10) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("PGPASSFILE", os.devnull)
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(db.dsn, connect_timeout=10)


def test_cluster_runs_as_an_unprivileged_user(postgres_cluster: PostgresCluster) -> None:
    assert postgres_cluster.root is not None
    owner = postgres_cluster.data_dir.stat().st_uid
    assert owner != 0
    if os.geteuid() != 0:
        assert owner == os.geteuid()


def test_each_test_gets_a_fresh_database(
    postgres_db: PostgresDatabase, postgres_cluster: PostgresCluster
) -> None:
    with postgres_db.connect() as conn:
        conn.execute("CREATE TABLE ledger (path text PRIMARY KEY)")
        conn.execute("INSERT INTO ledger VALUES ('a.csv')")
    other = postgres_cluster.create_database()
    try:
        with other.connect() as conn:
            found = conn.execute("SELECT to_regclass('public.ledger')").fetchone()
        assert found == (None,)
    finally:
        postgres_cluster.drop_database(other.name)
    with postgres_cluster.database().connect() as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}
    assert postgres_db.name in names and other.name not in names


def test_a_migrated_template_is_cloned(postgres_cluster: PostgresCluster) -> None:
    """Migrate once, clone per test: the clone carries the schema and rows."""
    template = postgres_cluster.create_database(f"tpl_{uuid.uuid4().hex[:8]}")
    with template.connect() as conn:
        conn.execute("CREATE TABLE schema_version (v int)")
        conn.execute("INSERT INTO schema_version VALUES (3)")
    clone = postgres_cluster.create_database(template=template.name)
    try:
        with clone.connect() as conn:
            assert conn.execute("SELECT v FROM schema_version").fetchall() == [(3,)]
    finally:
        postgres_cluster.drop_database(clone.name)
        postgres_cluster.drop_database(template.name)


def test_database_names_are_checked(postgres_cluster: PostgresCluster) -> None:
    with pytest.raises(ValueError, match="identifier"):
        postgres_cluster.create_database('x"; DROP DATABASE postgres; --')


def test_mlflow_server_on_postgres_logs_runs_and_registers_models(
    mlflow_pg_server: MlflowServer, postgres_cluster: PostgresCluster
) -> None:
    from mlflow.tracking import MlflowClient

    with urllib.request.urlopen(f"{mlflow_pg_server.url}/health", timeout=10) as response:
        assert response.status == 200
    client = MlflowClient(tracking_uri=mlflow_pg_server.url)
    experiment = client.create_experiment(f"fixture-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, "test_score", 0.91)
    client.set_terminated(run.info.run_id)
    name = f"model-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    version = client.create_model_version(
        name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
    )
    client.set_registered_model_alias(name, "production", version.version)
    assert client.get_model_version_by_alias(name, "production").run_id == run.info.run_id
    # The records are in PostgreSQL, not in a file beside the server.
    with postgres_cluster.database("mlflow").connect() as conn:
        stored = conn.execute(
            "SELECT value FROM metrics WHERE run_uuid = %s AND key = 'test_score'",
            (run.info.run_id,),
        ).fetchall()
        aliases = conn.execute(
            "SELECT version FROM registered_model_aliases WHERE name = %s", (name,)
        ).fetchall()
    assert stored == [(0.91,)]
    assert aliases == [(int(version.version),)]
    assert not (mlflow_pg_server.root / "server.db").exists()
