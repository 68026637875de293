"""The outbox's tests: the MLflow calls made in-process and by the writer child process."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from driftwarden.config.model import Settings
from driftwarden.outbox.mlflow_calls import InProcessCalls, MlflowCalls
from driftwarden.outbox.writer_process import WriterProcess
from driftwarden.tracking.access import MlflowAccess


@pytest.fixture(params=["thread", "process"])
def writer_calls(request: pytest.FixtureRequest) -> Iterator[Callable[[Settings], MlflowCalls]]:
    """The MLflow calls made in this process, or by the writer child process (stopped after)."""
    children: list[WriterProcess] = []

    def make(settings: Settings) -> MlflowCalls:
        if request.param == "thread":
            return InProcessCalls(MlflowAccess(settings))
        children.append(WriterProcess(settings))
        return children[-1]

    yield make
    for child in children:
        child.close()
