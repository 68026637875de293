"""Values have the type the reference says: a string is never a number or a boolean, an int
never a boolean, a float never an integer; an int where a float belongs is fine. Floats are
finite, durations bounded. Every refusal is one line naming the file, the key, the value and
what is expected, and `config check` exits 2.
"""

from __future__ import annotations

import math
import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import ValidationError

from driftwarden.config import load_settings
from driftwarden.config.model import MAX_SECONDS, Settings
from driftwarden.errors import ConfigError
from tests.config.model_walk import model_keys
from tests.config.test_load import config_check, write

# The issue's examples: (TOML line, its table, the dotted key, the message part).
ISSUE_EXAMPLES = [
    ('alpha = "0.01"', "drift", "drift.alpha", "must be a number, not a string"),
    ('recursive = "yes"', "watch", "watch.recursive", "must be true or false, not a string"),
    ("recursive = 1", "watch", "watch.recursive", "must be true or false, not a number"),
    ('port = "9108"', "metrics", "metrics.port", "must be an integer, not a string"),
    ('settle_seconds = "1"', "watch", "watch.settle_seconds", "must be a number, not a string"),
]


@pytest.mark.parametrize(("line", "table", "key", "message"), ISSUE_EXAMPLES)
def test_issue_examples_are_refused_by_config_check(
    tmp_path: Path, line: str, table: str, key: str, message: str
) -> None:
    cfg = write(tmp_path / "dw.toml", f"[{table}]\n{line}\n")
    proc = config_check(cfg, tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout == ""
    [error] = proc.stderr.strip().splitlines()
    value = line.split(" = ", 1)[1]
    assert f"{cfg}: {key}: {message}" in error
    assert f"(got {value.replace(chr(34), chr(39))})" in error  # the value as written


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ('[drift]\nalpha = "0.01"\n', "write it without quotes"),
        ('[watch]\nrecursive = "true"\n', "write true without quotes"),
        ('[watch]\nrecursive = "no"\n', "write false without quotes"),
    ],
)
def test_a_quoted_number_or_boolean_says_how_to_write_it(
    tmp_path: Path, text: str, hint: str
) -> None:
    cfg = write(tmp_path / "dw.toml", text)
    with pytest.raises(ConfigError, match=hint):
        load_settings(cfg, env={})


def test_an_int_where_a_float_belongs_is_fine(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "dw.toml",
        "[watch]\nsettle_seconds = 3\n[schedule.drift]\ninterval_seconds = 600\n"
        "[validation.minimums]\naccuracy = 1\n",
    )
    settings = load_settings(cfg, env={})
    assert settings.watch.settle_seconds == 3.0
    assert settings.schedule.drift.interval_seconds == 600.0
    assert settings.validation.minimums == {"accuracy": 1.0}


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("[metrics]\nport = 9108.0\n", "metrics.port", "must be an integer, not a fraction"),
        ("[metrics]\nport = true\n", "metrics.port", "must be an integer, not a boolean"),
        ("[drift]\nalpha = true\n", "drift.alpha", "must be a number, not a boolean"),
        ("[model]\nname = 5\n", "model.name", "must be a string (in quotes)"),
        ('[validation.minimums]\naccuracy = "0.8"\n', "validation.minimums.accuracy", "number"),
    ],
)
def test_other_kinds_are_not_converted_either(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    cfg = write(tmp_path / "dw.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    assert str(info.value).startswith(f"{cfg}: {key}: ")
    assert message in str(info.value)


def test_paths_still_come_from_toml_strings(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "dw.toml",
        '[state]\ndirectory = "st"\n[watch]\npaths = ["drops"]\nquarantine_dir = "q"\n'
        '[reference]\nsource = "file"\npath = "ref.csv"\n',
    )
    settings = load_settings(cfg, env={})
    assert settings.state.directory == tmp_path / "st"
    assert settings.watch.paths == [tmp_path / "drops"]
    assert settings.watch.quarantine_dir == tmp_path / "q"
    assert settings.reference.path == tmp_path / "ref.csv"


# --- a walk over the whole model: every numeric and boolean key, every path, every float ---


def _unwrap(annotation: Any) -> Any:
    """The scalar type behind ``Annotated[...]`` and ``X | None`` (None when it is a union of
    several types, e.g. retrain.parameters' values)."""
    if get_origin(annotation) is Annotated:
        return _unwrap(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        present = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(present[0]) if len(present) == 1 else None
    return annotation


def _leaf(annotation: Any) -> tuple[str, Any]:
    """("scalar" | "list" | "dict", the element type) of a key's annotation."""
    inner = _unwrap(annotation)
    origin = get_origin(inner)
    if origin is list:
        return "list", _unwrap(get_args(inner)[0])
    if origin is dict:
        return "dict", _unwrap(get_args(inner)[1])
    return "scalar", inner


def _nested(dotted: str, value: Any) -> dict[str, Any]:
    *parents, last = dotted.split(".")
    data: dict[str, Any] = {last: value}
    for part in reversed(parents):
        data = {part: data}
    return data


def _errors_at(dotted: str, value: Any) -> list[str]:
    """pydantic error types reported at the key (or inside it) when it is set to ``value``."""
    try:
        Settings.model_validate(_nested(dotted, value))
    except ValidationError as exc:
        loc = tuple(dotted.split("."))
        return [e["type"] for e in exc.errors() if tuple(map(str, e["loc"]))[: len(loc)] == loc]
    return []


def _shaped(kind: str, value: Any) -> Any:
    return {"list": [value], "dict": {"accuracy": value}, "scalar": value}[kind]


TYPED_KEYS = {
    key: _leaf(info.annotation)
    for key, info in model_keys().items()
    if _leaf(info.annotation)[1] in (int, float, bool)
}


def test_the_walk_finds_the_numeric_and_boolean_keys() -> None:
    assert {"drift.alpha", "watch.recursive", "metrics.port", "validation.minimums"} <= set(
        TYPED_KEYS
    )
    assert "schedule.drift.interval_seconds" in TYPED_KEYS
    assert "alerts.webhook.timeout_seconds" in TYPED_KEYS  # inside an optional table
    assert "retrain.parameters" not in TYPED_KEYS  # its values may be strings


@pytest.mark.parametrize("key", sorted(TYPED_KEYS))
def test_a_string_is_refused_for_every_numeric_and_boolean_key(key: str) -> None:
    kind, scalar = TYPED_KEYS[key]
    text = "true" if scalar is bool else "1"
    expected = {int: "int_type", float: "float_type", bool: "bool_type"}[scalar]
    assert expected in _errors_at(key, _shaped(kind, text))


@pytest.mark.parametrize("key", sorted(k for k, (_, t) in TYPED_KEYS.items() if t is int))
def test_an_integer_key_refuses_booleans_and_fractions(key: str) -> None:
    kind, _ = TYPED_KEYS[key]
    assert "int_type" in _errors_at(key, _shaped(kind, True))
    assert "int_type" in _errors_at(key, _shaped(kind, 2.5))


@pytest.mark.parametrize("key", sorted(k for k, (_, t) in TYPED_KEYS.items() if t is bool))
def test_a_boolean_key_refuses_numbers(key: str) -> None:
    kind, _ = TYPED_KEYS[key]
    assert "bool_type" in _errors_at(key, _shaped(kind, 1))


@pytest.mark.parametrize("key", sorted(k for k, (_, t) in TYPED_KEYS.items() if t is float))
def test_a_float_key_takes_an_int_and_refuses_inf_and_nan(key: str) -> None:
    kind, _ = TYPED_KEYS[key]
    assert "float_type" not in _errors_at(key, _shaped(kind, 1))
    for value in (math.inf, -math.inf, math.nan):
        assert "finite_number" in _errors_at(key, _shaped(kind, value)), value


@pytest.mark.parametrize("key", sorted(k for k in TYPED_KEYS if k.endswith("_seconds")))
def test_every_duration_is_bounded_so_timers_cannot_overflow(key: str) -> None:
    """1e308 s overflowed APScheduler's IntervalTrigger at start (OverflowError)."""
    assert "less_than_equal" in _errors_at(key, 1e308)
    assert "less_than_equal" not in _errors_at(key, MAX_SECONDS)


def test_the_bound_fits_every_timer_the_daemon_uses() -> None:
    import datetime as dt
    import threading

    from apscheduler.triggers.interval import IntervalTrigger

    assert MAX_SECONDS < threading.TIMEOUT_MAX
    trigger = IntervalTrigger(seconds=MAX_SECONDS, timezone=dt.UTC)
    assert trigger.get_next_fire_time(None, dt.datetime.now(dt.UTC)) is not None


PATH_KEYS = sorted(key for key, info in model_keys().items() if _leaf(info.annotation)[1] is Path)


def test_the_walk_finds_the_path_keys() -> None:
    assert {"state.directory", "watch.paths", "reference.path", "watch.quarantine_dir"} <= set(
        PATH_KEYS
    )


@pytest.mark.parametrize("key", PATH_KEYS)
def test_every_path_key_takes_a_toml_string(key: str) -> None:
    """A new path key declared as a bare ``Path`` would refuse strings (strict): use ConfigPath."""
    kind, _ = _leaf(model_keys()[key].annotation)
    assert _errors_at(key, _shaped(kind, "some/where")) == []
    assert _errors_at(key, _shaped(kind, 5)) != []


def test_load_reports_every_problem_one_line_each(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "dw.toml",
        '[drift]\nalpha = "0.01"\n[watch]\nrecursive = "yes"\nsettle_seconds = inf\n'
        '[metrics]\nport = "9108"\n[schedule.drift]\ninterval_seconds = 1e308\n',
    )
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    lines = str(info.value).splitlines()
    keys = sorted(line.split(": ")[1] for line in lines)
    assert keys == [
        "drift.alpha",
        "metrics.port",
        "schedule.drift.interval_seconds",
        "watch.recursive",
        "watch.settle_seconds",
    ]
    assert all(line.startswith(f"{cfg}: ") for line in lines)
    assert any("finite number" in line and "(got inf)" in line for line in lines)
    assert any("at most 315360000 seconds (10 years)" in line for line in lines)
