"""Hypothesis profiles: fixed examples in CI, a wide search on demand.

``ci`` (the default, what ``make test`` runs): derandomized, so every run draws the same
examples and CI gives the same answer every time; no example database. Every failing
example a wider search finds is kept in its test as an explicit ``@example``.
``explore`` (``make test-explore`` or ``HYPOTHESIS_PROFILE=explore``): random seeds and
``EXPLORE_FACTOR`` times more examples per test, for developers hunting edge cases.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_ENV = "HYPOTHESIS_PROFILE"
EXPLORE_FACTOR = 20

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile(
    "explore",
    derandomize=False,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)

PROFILE = os.environ.get(PROFILE_ENV, "ci")


def examples(n: int) -> int:
    """``max_examples`` for a test: ``n`` in CI, ``EXPLORE_FACTOR`` times that when exploring."""
    return n * EXPLORE_FACTOR if PROFILE == "explore" else n


def load() -> None:
    """Select the profile named by ``HYPOTHESIS_PROFILE`` (``ci`` unless said otherwise)."""
    settings.load_profile(PROFILE)
