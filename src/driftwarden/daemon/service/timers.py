"""Repeating deadlines of the main loop (rescan, alert rules, systemd status) on the monotonic clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping


class Timers:
    """Named timers; each interval is read when the timer is set again (a reload may change it)."""

    def __init__(self, intervals: Mapping[str, Callable[[], float]], now: float) -> None:
        self._intervals = dict(intervals)
        self._next = {name: now + interval() for name, interval in self._intervals.items()}

    def due(self, now: float) -> list[str]:
        """The timers due at ``now`` (each set again from ``now``)."""
        names = [name for name, at in self._next.items() if now >= at]
        for name in names:
            self.reset(name, now)
        return names

    def reset(self, name: str, now: float) -> None:
        self._next[name] = now + self._intervals[name]()

    def next_due(self) -> float:
        return min(self._next.values())
