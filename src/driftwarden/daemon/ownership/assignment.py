"""Which live instance should own each model: evenly spread, the same answer everywhere.

Every instance computes the assignment from the same two lists (the models, the live
instances), so they agree without talking to each other. It is rendezvous hashing with a
cap: each model goes to the instance that ranks it highest (a hash of model and instance)
among those still under their fair share (``floor`` or ``ceil`` of models / instances). An
instance that joins or leaves moves its own models and, where a share is full, a few others
(no reshuffle); no instance keeps more than its share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def _score(model: str, instance: str) -> int:
    digest = hashlib.sha256(f"{model}\0{instance}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def assign(models: Iterable[str], instances: Iterable[str]) -> dict[str, str]:
    """Model -> the live instance that should own it (empty when no instance lives).

    Loads differ by at most one: every instance owns ``floor(M / N)`` or ``ceil(M / N)``
    models, and only ``M mod N`` of them the larger number.
    """
    pool = sorted(set(instances))
    wanted = sorted(set(models))
    if not pool:
        return {}
    low, extra = divmod(len(wanted), len(pool))
    load = dict.fromkeys(pool, 0)
    owners: dict[str, str] = {}
    for model in wanted:
        ranked = sorted(pool, key=lambda inst: (-_score(model, inst), inst))
        owner = next(
            inst for inst in ranked if load[inst] < low or (load[inst] == low and extra > 0)
        )
        if load[owner] == low:  # it goes to the larger share
            extra -= 1
        owners[model] = owner
        load[owner] += 1
    return owners


def share_of(instance: str, models: Iterable[str], instances: Iterable[str]) -> set[str]:
    """The models ``instance`` should own."""
    return {m for m, owner in assign(models, instances).items() if owner == instance}
