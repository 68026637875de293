"""Fixtures for tests on real PostgreSQL: a cluster per session, a fresh database per test,
and an `mlflow server` whose backend store is a database in that cluster.

Registered for the whole suite by ``pytest_plugins`` in tests/conftest.py. Session scope
under pytest-xdist means one of each per worker process (own directory, own free port).
Without Debian's postgresql package the tests that use them skip, and fail under CI=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.mlflow_server import MlflowServer
from tests.support.postgres import INSTALL_HINT, PostgresCluster, PostgresDatabase, find_bindir


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throw-away cluster on 127.0.0.1 (password auth), stopped and removed at the end.

    ``postgres_cluster.database(name)`` describes a database (``.dsn`` without the
    password, ``.env()`` with ``PGPASSWORD``, ``.connect()``); ``create_database()``
    clones a template, ``drop_database(name)`` drops one.
    """
    if find_bindir() is None:
        if os.environ.get("CI"):
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_db(postgres_cluster: PostgresCluster) -> Iterator[PostgresDatabase]:
    """A fresh, empty database for one test (a clone of template1), dropped afterwards."""
    db = postgres_cluster.create_database()
    try:
        yield db
    finally:
        postgres_cluster.drop_database(db.name)


@pytest.fixture(scope="session")
def mlflow_pg_server(
    postgres_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MlflowServer]:
    """A real `mlflow server` on 127.0.0.1 with its store in PostgreSQL (psycopg 3).

    The store URI carries no password: the server reads it from ``PGPASSWORD``, as a
    production server would from its environment. Artifacts go to a temporary directory
    (proxied by the server); webhooks are enabled (see tests/support/mlflow_server.py).
    """
    db = postgres_cluster.create_database("mlflow")
    server = MlflowServer(
        tmp_path_factory.mktemp("mlflow-pg-server"),
        backend_store_uri=db.sqlalchemy_url("psycopg"),
        env=db.env(),
    )
    server.start(timeout=180)
    try:
        yield server
    finally:
        server.stop()
