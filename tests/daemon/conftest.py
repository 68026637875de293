"""Daemons built in process (real ledger, outbox, metrics, reference, jobs), started or not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon_proc import daemon_config
from tests.support.inprocess import InProcessDaemon


@pytest.fixture
def build() -> Iterator[Callable[..., InProcessDaemon]]:
    """``build(root, **sections)``: a daemon built from a test config, not started (its parts
    are complete, so jobs can be called directly); closed at teardown."""
    built: list[InProcessDaemon] = []

    def make(root: Path, **sections: dict[str, Any]) -> InProcessDaemon:
        daemon = InProcessDaemon(daemon_config(root, **sections))
        built.append(daemon)
        return daemon

    yield make
    for daemon in reversed(built):
        daemon.stop()


@pytest.fixture
def built(tmp_path: Path, build: Callable[..., InProcessDaemon]) -> InProcessDaemon:
    return build(tmp_path)
