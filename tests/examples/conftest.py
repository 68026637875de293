"""Fixtures for the example project's tests (the store template is session-wide: tests/conftest.py)."""
