"""A logging handler that reports a run's log records to that run, in one batch at its end.

While attached, :class:`MlflowLogHandler` only counts records per level and keeps the
formatted WARNING-and-above lines in memory; nothing touches MLflow from ``emit`` (that
would cost one MLflow call per record and could recurse through MLflow's own loggers).
When it is detached, it writes the counts as metrics ``log_records_<level>`` in one
``log_batch`` call and the collected lines as one text artifact (``logs/warnings.log`` by
default) to the run it was attached for. No run is ever opened by the handler.

Use it around the body of a run; the handler is detached (and writes) before the run ends::

    with mlflow.start_run() as run, log_records_to_run(run.info.run_id):
        logging.getLogger(__name__).warning("counted and attached")

Records from every thread reach the handler while it is attached, so work done by helper
threads of the run is counted too. The logger's own level still filters first: records a
logger drops never reach any handler.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import mlflow
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from driftwarden.errors import UsageError
from driftwarden.tracking.client import unavailable_or_raise

METRIC_PREFIX = "log_records_"
DEFAULT_ARTIFACT_FILE = "logs/warnings.log"
# Levels always reported (as 0 when nothing was logged), so dashboards see a value.
STANDARD_LEVELS = ("debug", "info", "warning", "error", "critical")

_log = logging.getLogger(__name__)


class MlflowLogHandler(logging.Handler):
    """Counts records per level and keeps WARNING+ lines; :meth:`write_to_run` reports them.

    Args:
        run_id: the run that receives the metrics and the artifact.
        client: the client to write with (default: one for the current tracking URI).
        artifact_level: records at or above this level are kept for the artifact.
        artifact_file: run-relative path of the artifact.
        max_lines: keep at most this many lines (the rest are counted, and the artifact
            says how many were left out), so a noisy run cannot exhaust memory.
    """

    def __init__(
        self,
        run_id: str,
        client: MlflowClient | None = None,
        *,
        level: int = logging.NOTSET,
        artifact_level: int = logging.WARNING,
        artifact_file: str = DEFAULT_ARTIFACT_FILE,
        max_lines: int = 10_000,
    ) -> None:
        super().__init__(level)
        self.run_id = run_id
        self.client = client
        self.artifact_level = artifact_level
        self.artifact_file = artifact_file
        self.max_lines = max_lines
        self._counts: Counter[str] = Counter()
        self._lines: list[str] = []
        self._dropped_lines = 0
        self._written = False
        self._state = threading.Lock()  # emit() runs on whatever thread logged
        self.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s")
        )

    def emit(self, record: logging.LogRecord) -> None:
        """Count the record and keep its text if it is at ``artifact_level`` or above."""
        try:
            line = self.format(record) if record.levelno >= self.artifact_level else None
            with self._state:
                self._counts[record.levelname.lower()] += 1
                if line is not None:
                    if len(self._lines) < self.max_lines:
                        self._lines.append(line)
                    else:
                        self._dropped_lines += 1
        except Exception:  # logging must never raise into the caller
            self.handleError(record)

    def counts(self) -> dict[str, int]:
        """Records seen so far per lower-case level name (standard levels always present)."""
        with self._state:
            counts = {name: 0 for name in STANDARD_LEVELS}
            counts.update(self._counts)
            return counts

    def collected_text(self) -> str:
        """The kept WARNING+ lines, one per record, with a note when lines were left out."""
        with self._state:
            text = "\n".join(self._lines)
            if self._dropped_lines:
                text += f"\n... {self._dropped_lines} more records left out (max_lines={self.max_lines})"
            return text + ("\n" if text else "")

    def metrics(self) -> dict[str, float]:
        """The counts as MLflow metric names and values."""
        return {f"{METRIC_PREFIX}{name}": float(n) for name, n in self.counts().items()}

    def write_to_run(self) -> None:
        """Write the counts (one ``log_batch``) and, if any lines were kept, the artifact.

        Writes once; later calls do nothing. Raises ``MlflowUnavailable`` when MLflow
        cannot be reached.
        """
        if self._written:
            return
        client = self.client or MlflowClient()
        stamp = int(time.time() * 1000)
        batch = [Metric(key, value, stamp, 0) for key, value in sorted(self.metrics().items())]
        text = self.collected_text()
        try:
            client.log_batch(self.run_id, metrics=batch)
            if text:
                client.log_text(self.run_id, text, self.artifact_file)
        except MlflowException as exc:
            raise unavailable_or_raise(exc) from exc
        self._written = True


@contextmanager
def log_records_to_run(
    run_id: str | None = None,
    *,
    client: MlflowClient | None = None,
    logger: logging.Logger | str | None = None,
    artifact_level: int = logging.WARNING,
    artifact_file: str = DEFAULT_ARTIFACT_FILE,
) -> Iterator[MlflowLogHandler]:
    """Attach a :class:`MlflowLogHandler` to ``logger`` (default: root) for the body.

    ``run_id`` defaults to the active run of this thread. On exit the handler is detached
    and writes to the run; if the body raised, a failure to write is logged and the
    body's exception wins.
    """
    if run_id is None:
        active = mlflow.active_run()
        if active is None:
            raise UsageError("log_records_to_run needs a run_id or an active MLflow run")
        run_id = active.info.run_id
    target = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
    handler = MlflowLogHandler(
        run_id, client, artifact_level=artifact_level, artifact_file=artifact_file
    )
    target.addHandler(handler)
    failed = False
    try:
        yield handler
    except BaseException:
        failed = True
        raise
    finally:
        target.removeHandler(handler)
        handler.close()
        try:
            handler.write_to_run()
        except Exception as exc:
            if not failed:
                raise
            _log.warning("could not write log records to run %s: %s", run_id, exc)
