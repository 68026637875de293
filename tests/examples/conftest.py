"""Fixtures for the example project's tests: a migrated sqlite template per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tracking.stores import migrated_template


@pytest.fixture(scope="session")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("mlflow-template"))
