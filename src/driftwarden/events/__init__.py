"""Events: what driftwarden reports, declared once (``types``), a small bus, and the log as a subscriber."""

from __future__ import annotations

from driftwarden.events.bus import EventBus, Publish, Subscriber
from driftwarden.events.log import log_event
from driftwarden.events.recorder import EventTimeout, Recorder
from driftwarden.events.types import EVENTS, Event

__all__ = [
    "EVENTS",
    "Event",
    "EventBus",
    "EventTimeout",
    "Publish",
    "Recorder",
    "Subscriber",
    "log_event",
]
