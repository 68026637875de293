"""Connections to the shared state database: a small pool, transactions, failures mapped.

One ``Database`` per store (ledger, outbox, leases): a ``psycopg_pool.ConnectionPool`` whose
connections are checked when taken, so a PostgreSQL restart costs the next caller one
reconnect, not an error. What cannot be hidden becomes ``StateUnavailable`` (recoverable:
the daemon retries on its next turn and reports itself unhealthy meanwhile); a transaction
that lost a deadlock or serialization race is retried here. The password comes from the
environment (``password_env``, else libpq's own ``PGPASSWORD``/``~/.pgpass``), never the URL.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from driftwarden.config.model import Settings
from driftwarden.errors import StateUnavailable
from driftwarden.redact import redact

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

T = TypeVar("T")

# The database's clock, as unix seconds (every lease time is compared on this one clock).
NOW = "extract(epoch from clock_timestamp())::double precision"
# A transaction that lost a deadlock or a serialization race is run again this often.
TX_ATTEMPTS = 5
CONNECT_TIMEOUT_SECONDS = 5


def key_sql(kind: str) -> str:
    """A 64-bit advisory-lock key for ``driftwarden:<kind>:<%s>`` (computed by PostgreSQL)."""
    return f"hashtextextended('driftwarden:{kind}:' || %s, 0)"


class Target:
    """Where and how to connect: the URL, the password from the environment, a name."""

    def __init__(self, url: str, password: str | None, application_name: str) -> None:
        self.url = url
        self.password = password
        self.application_name = application_name[:63]

    @classmethod
    def from_settings(cls, settings: Settings, application_name: str) -> Target:
        state = settings.state
        assert state.url is not None, "the postgres engine needs state.url"
        password = os.environ.get(state.password_env) if state.password_env else None
        return cls(state.url, password or None, application_name)

    def kwargs(self, readonly: bool) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "application_name": self.application_name,
            # A dead peer (a host gone, not a process) is noticed within ~30 s.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        }
        if self.password is not None:
            kwargs["password"] = self.password
        if readonly:
            kwargs["options"] = "-c default_transaction_read_only=on"
        return kwargs

    def connect(self, readonly: bool = False) -> psycopg.Connection[Any]:
        """One connection of its own (migrations, session locks); failures mapped."""
        import psycopg

        try:
            return psycopg.connect(self.url, **self.kwargs(readonly))
        except psycopg.OperationalError as exc:
            raise unavailable(exc) from None


def unavailable(exc: BaseException) -> StateUnavailable:
    """The error to raise for a database that cannot be reached (message redacted, one line)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return StateUnavailable(f"state database unreachable: {redact(text)}")


class Database:
    """A pool of connections to one database; ``run`` is one transaction."""

    def __init__(
        self, target: Target, *, readonly: bool = False, max_size: int = 8, name: str = "state"
    ) -> None:
        self.target = target
        self.readonly = readonly
        self._max_size = max_size
        self._name = name
        self._pool: Any = None

    def open(self, timeout: float = 10.0) -> None:
        """Start the pool (the caller connected once already, so the database is there)."""
        from psycopg_pool import ConnectionPool

        self._pool = ConnectionPool(
            self.target.url,
            kwargs=self.target.kwargs(self.readonly),
            min_size=1,
            max_size=self._max_size,
            open=False,
            check=ConnectionPool.check_connection,
            name=f"driftwarden-{self._name}",
            timeout=timeout,
        )
        self._pool.open(wait=False)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close(timeout=2.0)

    def run(self, fn: Callable[[Any], T]) -> T:
        """``fn(cursor)`` in one transaction (rows as dicts); retried after a lost race."""
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import PoolTimeout

        assert self._pool is not None, "open() first"
        for attempt in range(TX_ATTEMPTS):
            try:
                with (
                    self._pool.connection() as conn,
                    conn.transaction(),
                    conn.cursor(row_factory=dict_row) as cur,
                ):
                    return fn(cur)
            except psycopg.errors.TransactionRollback:
                if attempt + 1 == TX_ATTEMPTS:
                    raise
                time.sleep(0.01 * (attempt + 1))
            except (psycopg.OperationalError, PoolTimeout) as exc:
                raise unavailable(exc) from None
        raise AssertionError("unreachable")

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """The rows of one query, as dicts."""
        return self.run(lambda cur: list(cur.execute(sql, params).fetchall()))

    @contextmanager
    def session(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection held for a while (a session-level advisory lock lives on it)."""
        import psycopg
        from psycopg_pool import PoolTimeout

        assert self._pool is not None, "open() first"
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise unavailable(exc) from None
