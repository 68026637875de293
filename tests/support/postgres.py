"""A throw-away PostgreSQL cluster on 127.0.0.1 for tests: Debian's `postgresql`, no service.

``initdb`` + ``pg_ctl`` in a fresh directory under /tmp, run as an unprivileged user
(``runuser -u postgres --`` when the tests run as root: initdb refuses root), listening
on a free loopback port only (no Unix socket), with password authentication so that
callers exercise "secret from the environment" (``PGPASSWORD``) the way the daemon and
an MLflow server get theirs. Durability is switched off (fsync, synchronous_commit):
the cluster lives for one test session.

Each pytest-xdist worker is its own process with its own session fixtures, so each gets
its own cluster, directory and port; a port taken between choosing it and binding it is
retried with another.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.mlflow_server import free_port

if TYPE_CHECKING:
    import psycopg

SUPERUSER = "postgres"
# A fixed test password: the cluster is on loopback, lives minutes, and holds nothing real.
TEST_PASSWORD = "dw-test-secret-3f9c"
INSTALL_HINT = (
    "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): as root run "
    "'apt-get update && apt-get install -y --no-install-recommends postgresql' (or `make tools`)"
)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def find_bindir() -> Path | None:
    """The newest Debian PostgreSQL bin directory holding initdb, else one on PATH, else None."""
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")

    def major(path: str) -> int:
        version = Path(path).parents[1].name
        return int(version) if version.isdigit() else 0

    if candidates:
        return Path(max(candidates, key=major)).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


@dataclass(frozen=True)
class PostgresDatabase:
    """One database in the cluster: its name and how to reach it (password separately)."""

    name: str
    host: str
    port: int
    user: str
    password: str

    @property
    def dsn(self) -> str:
        """libpq URL without the password (give it with :meth:`env`'s ``PGPASSWORD``)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.name}"

    @property
    def dsn_with_password(self) -> str:
        """libpq URL carrying the password (for code under test that must redact it)."""
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.name}"

    def sqlalchemy_url(self, driver: str = "psycopg") -> str:
        """``postgresql+psycopg://...`` without the password, e.g. for `mlflow server`."""
        return f"postgresql+{driver}://{self.user}@{self.host}:{self.port}/{self.name}"

    def env(self) -> dict[str, str]:
        """The secret as libpq (and so psycopg and SQLAlchemy) reads it from the environment."""
        return {"PGPASSWORD": self.password}

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        """A psycopg connection (autocommit unless told otherwise)."""
        import psycopg  # here: only tests that use the cluster pay for the import

        kwargs.setdefault("autocommit", True)
        return psycopg.connect(self.dsn, password=self.password, connect_timeout=10, **kwargs)


class PostgresCluster:
    """A cluster in its own temporary directory; ``start()``, ``create_database()``, ``stop()``.

    ``stop()`` runs ``pg_ctl stop -m fast`` and removes the directory.
    """

    def __init__(self, port: int | None = None) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise FileNotFoundError(INSTALL_HINT)
        self.bindir = bindir
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.user = SUPERUSER
        self.password = TEST_PASSWORD
        self.root: Path | None = None
        self._run_as: list[str] = []
        self._owner: tuple[int, int] | None = None
        self._started = False

    # ---------------------------------------------------------------- paths
    @property
    def data_dir(self) -> Path:
        assert self.root is not None, "start() first"
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        assert self.root is not None, "start() first"
        return self.root / "postgres.log"

    def database(self, name: str = "postgres") -> PostgresDatabase:
        return PostgresDatabase(name, self.host, self.port, self.user, self.password)

    # ---------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 60.0, attempts: int = 3) -> None:
        """initdb, then start on a free port (retrying with another if it was taken)."""
        self._prepare_root()
        self._initdb()
        for attempt in range(attempts):
            self._write_settings()
            proc = self._pg_ctl("start", "-w", "-t", str(int(timeout)), "-l", str(self.log_path))
            if proc.returncode == 0:
                self._started = True
                return
            log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            if "could not bind" in log and attempt + 1 < attempts:
                self.port = free_port()  # another process took the port first
                continue
            self._remove_root()
            raise RuntimeError(
                f"pg_ctl start failed ({proc.returncode}): {proc.stdout}{proc.stderr}\n{log[-3000:]}"
            )

    def stop(self) -> None:
        """Stop the server (fast: roll back open transactions) and remove the directory."""
        try:
            if self._started:
                self._pg_ctl("stop", "-m", "fast", "-w", "-t", "30")
                self._started = False
        finally:
            self._remove_root()

    def restart(self) -> None:
        """Restart the server in place (fast: open sessions are cut, as in a failover)."""
        proc = self._pg_ctl("restart", "-m", "fast", "-w", "-t", "60", "-l", str(self.log_path))
        if proc.returncode != 0:
            raise RuntimeError(f"pg_ctl restart failed ({proc.returncode}): {proc.stderr}")

    def pause(self) -> None:
        """Stop the server, keeping its data (an outage); ``resume`` starts it again."""
        proc = self._pg_ctl("stop", "-m", "fast", "-w", "-t", "30")
        if proc.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed ({proc.returncode}): {proc.stderr}")

    def resume(self) -> None:
        """Start a paused server again on the same port."""
        proc = self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_path))
        if proc.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed ({proc.returncode}): {proc.stderr}")

    # ---------------------------------------------------------------- databases
    def create_database(
        self, name: str | None = None, template: str = "template1"
    ) -> PostgresDatabase:
        """A new database cloned from ``template`` (an empty one, or one migrated once)."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        for ident in (name, template):
            if not _IDENTIFIER.match(ident):
                raise ValueError(f"not a plain lower-case SQL identifier: {ident!r}")
        with self.database().connect() as conn:
            # FILE_COPY: cheaper than PostgreSQL 15's default WAL_LOG for small templates.
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return self.database(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing any connection still open to it."""
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a plain lower-case SQL identifier: {name!r}")
        with self.database().connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # ---------------------------------------------------------------- internals
    def _prepare_root(self) -> None:
        # /tmp, not pytest's tmp_path: pytest's base directory is 0700 root, which the
        # postgres user cannot enter.
        self.root = Path(tempfile.mkdtemp(prefix="dw-pg-", dir="/tmp"))
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(SUPERUSER)
            except KeyError:
                self._remove_root()
                raise RuntimeError(
                    f"running as root but there is no '{SUPERUSER}' user to run PostgreSQL as "
                    "(Debian's postgresql package creates it)"
                ) from None
            self._owner = (entry.pw_uid, entry.pw_gid)
            os.chown(self.root, *self._owner)
            self._run_as = ["runuser", "-u", SUPERUSER, "--"]

    def _initdb(self) -> None:
        assert self.root is not None
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        if self._owner is not None:
            os.chown(pwfile, *self._owner)
        argv = [
            str(self.bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            self.user,
            f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256",
            "--auth-local=peer",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]
        proc = self._run(argv)
        pwfile.unlink()
        if proc.returncode != 0:
            self._remove_root()
            raise RuntimeError(f"initdb failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")

    def _write_settings(self) -> None:
        """Loopback TCP only, no Unix socket, no durability; last line wins on retry."""
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "''",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "'32MB'",
            "max_connections": "100",
        }
        lines = "".join(f"{k} = {v}\n" for k, v in settings.items())
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# driftwarden tests\n" + lines)

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), *args])

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        # cwd: the postgres user may not be allowed into the caller's working directory.
        return subprocess.run(
            [*self._run_as, *argv],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C"},
        )

    def _remove_root(self) -> None:
        if self.root is not None and self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)


def wait_until_accepting(db: PostgresDatabase, timeout: float = 30.0) -> None:
    """Block until ``db`` accepts a connection (pg_ctl -w already waits; this is for restarts)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with db.connect():
                return
        except Exception as exc:  # psycopg.OperationalError while it starts
            last = exc
            time.sleep(0.2)
    raise TimeoutError(f"{db.dsn} did not accept a connection within {timeout}s: {last}")
