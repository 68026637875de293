"""Turn pydantic's validation errors into one line per problem an operator can act on.

``FILE: key.path: what is wrong (got VALUE)``. An unknown key suggests the nearest valid key
of its table (a pip user has no example file to look at); a string where a number or a
boolean belongs says to write it without quotes.
"""

from __future__ import annotations

import difflib
import math
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from driftwarden.config.model import MAX_SECONDS, Settings

# pydantic error type -> what the key expects, in the file's terms.
_EXPECTED = {
    "float_type": "a number",
    "int_type": "an integer",
    "bool_type": "true or false",
    "string_type": "a string (in quotes)",
    "list_type": "a list, e.g. [...]",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "path_type": "a path (a string in quotes)",
}
# pydantic bound error type -> (its ctx key, the comparison in words).
_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}
_TOML_WORDS = {"true": "true", "false": "false", "yes": "true", "no": "false"}


def format_validation_error(
    exc: ValidationError,
    path: Path | None,
    shown_prefix: tuple[str, ...] = (),
    schema_prefix: tuple[str, ...] = (),
) -> str:
    """One line per problem: ``FILE: key.path: message (got VALUE)``.

    ``exc`` may come from validating one section on its own (a model's merged ``[drift]``):
    ``schema_prefix`` is where that section sits in ``Settings`` (``("drift",)``, to find the
    valid keys) and ``shown_prefix`` where the user wrote it (``("models", "m", "drift")``).
    """
    where = str(path) if path else "<defaults>"
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        key = ".".join(str(part) for part in (*shown_prefix, *loc)) or "<file>"
        got = err.get("input")
        shown = "" if isinstance(got, dict) or err["type"] == "missing" else f" (got {got!r})"
        message = _message(err, (*schema_prefix, *loc), got, shown_prefix + loc)
        if err["type"] == "extra_forbidden":
            shown = ""  # the message names the key; its value is beside the point
        lines.append(f"{where}: {key}: {message}{shown}")
    return "\n".join(lines)


def _message(err: Any, loc: tuple[Any, ...], got: object, shown: tuple[Any, ...]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return unknown_key_message(loc, got, shown)
    if kind in ("literal_error", "enum"):
        return f"must be one of {err.get('ctx', {}).get('expected', '')}"
    if kind in _BOUNDS:
        ctx_key, sign = _BOUNDS[kind]
        bound = err.get("ctx", {}).get(ctx_key)
        if kind == "less_than_equal" and bound == MAX_SECONDS:
            return f"must be at most {MAX_SECONDS:.0f} seconds (10 years)"
        return f"must be {sign} {bound}"
    if kind == "finite_number":
        return "must be a finite number (inf and nan are not allowed)"
    if kind in _EXPECTED:
        return f"must be {_EXPECTED[kind]}{_wrong_kind(kind, got)}"
    return str(err["msg"]).removeprefix("Value error, ")


def _wrong_kind(kind: str, got: object) -> str:
    """What was given instead, with the fix when it is a quoted number or boolean."""
    if isinstance(got, str):
        if kind in ("float_type", "int_type") and _is_number(got):
            return ", not a string; write it without quotes"
        if kind == "bool_type" and got.strip().lower() in _TOML_WORDS:
            return f", not a string; write {_TOML_WORDS[got.strip().lower()]} without quotes"
        return ", not a string"
    if isinstance(got, bool):
        return ", not a boolean"
    if kind == "int_type" and isinstance(got, float):
        return ", not a fraction"
    if kind == "bool_type" and isinstance(got, int | float):
        return ", not a number"
    return ""


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def unknown_key_message(
    loc: tuple[Any, ...], got: object, named: tuple[Any, ...] | None = None
) -> str:
    """``unknown key 'alpah' in [drift]; did you mean 'alpha'?`` (or the valid keys).

    ``loc`` finds the table in ``Settings``; ``named`` (default ``loc``) is how it is named.
    """
    name = str(loc[-1])
    model = _model_at(loc[:-1])
    valid = list(model.model_fields) if model is not None else []
    table = ".".join(str(p) for p in (loc if named is None else named)[:-1])
    if not table:
        what, where = ("table" if isinstance(got, dict) else "key"), "at the top level"
        shown = [f"[{k}]" for k in valid]
    else:
        what, where = "key", f"in [{table}]"
        shown = [f"'{k}'" for k in valid]
    text = f"unknown {what} '{name}' {where}"
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    if close:
        suggestion = f"[{close[0]}]" if not table else f"'{close[0]}'"
        return f"{text}; did you mean {suggestion}?"
    if valid:
        return f"{text}; valid: {', '.join(shown)}"
    return text


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The section model that ``loc`` (a path of keys from the top) names, if any."""
    annotation: Any = Settings
    for part in loc:
        model = _section(annotation)
        if model is not None:
            info = model.model_fields.get(str(part))
            if info is None:
                return None
            annotation = info.annotation
        elif get_origin(annotation) is dict:  # a table of sections: the part is its key
            annotation = get_args(annotation)[1]
        else:
            return None
    return _section(annotation)


def _section(annotation: Any) -> type[BaseModel] | None:
    """The model behind ``annotation``, unwrapping ``X | None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        models = [_section(a) for a in get_args(annotation)]
        found = [m for m in models if m is not None]
        return found[0] if len(found) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None
