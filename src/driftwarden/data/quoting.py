"""Quoting names from data files in messages: bounded and escaped.

Column names come from files that anyone who can drop a file controls, and a reference
file may be something it should not be (a symlink to ``/etc/shadow``). A reason that
quarantine writes beside a file, or a log line, quotes at most a few names, each cut
short, with control characters escaped, so a name can neither flood a message, forge a
line, nor carry a whole secret line into it.
"""

from __future__ import annotations

from collections.abc import Iterable

NAME_WIDTH = 40  # characters of one name shown before it is cut
NAMES_SHOWN = 20  # names shown before "+N more"


def quote_name(name: object, width: int = NAME_WIDTH) -> str:
    """``'name'``: Python's repr (control characters escaped), cut to ``width`` characters."""
    text = str(name)
    if len(text) > width:
        text = text[: max(1, width - 1)] + "…"
    return repr(text)


def quote_names(names: Iterable[object], limit: int = NAMES_SHOWN, width: int = NAME_WIDTH) -> str:
    """``['a', 'b', ... +N more]``: at most ``limit`` names, each quoted by ``quote_name``."""
    shown: list[str] = []
    more = 0
    for name in names:
        if len(shown) < limit:
            shown.append(quote_name(name, width))
        else:
            more += 1
    return "[" + ", ".join(shown) + (f", +{more} more" if more else "") + "]"


def escape_text(text: str) -> str:
    """``text`` on one line: control characters (newlines, ESC, ...) as ``\\n``/``\\x1b`` escapes."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
