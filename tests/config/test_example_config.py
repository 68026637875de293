"""config/driftwarden.example.toml: loads, names every key of the model, shows the defaults.

When someone adds a config key, ``test_example_names_every_key`` says the example is stale.
A key can be named by an active line (``key = value``) or, when it is unset by default or
an alternative, by a commented line (``# key = value``) under an active or commented table
header (``# [alerts.webhook]``).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, get_origin

import pytest
from pydantic import TypeAdapter

from driftwarden.config import load_settings
from driftwarden.config.model import Settings
from tests.config.model_walk import model_keys

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "driftwarden.example.toml"

# Keys that come from the environment only; the example names their variables in comments.
ENV_ONLY = {
    "mlflow.username": "MLFLOW_TRACKING_USERNAME",
    "mlflow.password": "MLFLOW_TRACKING_PASSWORD",
    "mlflow.token": "MLFLOW_TRACKING_TOKEN",
}
# Values in the example that differ from the defaults on purpose.
EXAMPLE_VALUES = {"watch.paths"}

_HEADER = re.compile(r"^(?:#\s*)?\[([A-Za-z0-9_.]+)\]\s*$")
_COMMENTED_KEY = re.compile(r"^#\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$")
_ACTIVE_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=")


def example_keys(text: str) -> tuple[set[str], dict[str, str]]:
    """(active dotted keys, commented dotted keys -> their TOML value text) of the example.

    A table header counts as an active key too: ``[validation.minimums]`` names the
    table-valued key ``validation.minimums``.
    """
    active: set[str] = set()
    commented: dict[str, str] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        header = _HEADER.match(line)
        if header:
            # [models.churn] is an example of the user-named table [models.<name>].
            section = re.sub(r"^models\.[^.]+", "models.<name>", header.group(1))
            if not line.startswith("#"):
                active.add(section)
            continue
        if match := _ACTIVE_KEY.match(line):
            active.add(f"{section}.{match.group(1)}")
        elif match := _COMMENTED_KEY.match(line):
            commented[f"{section}.{match.group(1)}"] = match.group(2)
    return active, commented


def test_example_loads() -> None:
    settings = load_settings(EXAMPLE, env={})
    assert settings.watch.paths == [Path("/srv/driftwarden/drops")]


def test_parser_sees_active_and_commented_keys() -> None:
    active, commented = example_keys(
        '[a]\nx = 1\n# y = "z"\n# [a.b]\n# Not a key: text = words\n# w = 2\n[c]\nv = []\n'
    )
    assert active == {"a", "a.x", "c", "c.v"}
    assert commented == {"a.y": '"z"', "a.b.w": "2"}


def test_example_names_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    active, commented = example_keys(text)
    named = active | set(commented)
    missing = [
        key
        for key in model_keys()
        if key not in named and not (key in ENV_ONLY and ENV_ONLY[key] in text)
    ]
    assert missing == [], f"{EXAMPLE.name} is stale: add these keys with a comment: {missing}"


def test_example_names_no_unknown_key() -> None:
    known = model_keys()
    dict_fields = {k for k, info in known.items() if get_origin(info.annotation) is dict}
    active, commented = example_keys(EXAMPLE.read_text(encoding="utf-8"))
    sections = {k.rpartition(".")[0] for k in known}
    sections |= {".".join(k.split(".")[:i]) for k in sections for i in range(1, k.count(".") + 1)}
    unknown = [
        key
        for key in sorted(active | set(commented))
        if key not in known and key not in sections and key.rpartition(".")[0] not in dict_fields
    ]
    assert unknown == [], f"{EXAMPLE.name} names keys the model does not have: {unknown}"


def test_commented_values_are_valid_for_their_key() -> None:
    known = model_keys()
    _, commented = example_keys(EXAMPLE.read_text(encoding="utf-8"))
    for key, value_text in commented.items():
        if key not in known:
            continue  # entries of a table such as retrain.parameters
        value = tomllib.loads(f"v = {value_text}")["v"]
        TypeAdapter(known[key].annotation).validate_python(value)


def test_every_key_has_a_comment() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if _ACTIVE_KEY.match(line) or _COMMENTED_KEY.match(line):
            above = lines[number - 1].strip()
            explained = (
                above.startswith("#") or _ACTIVE_KEY.match(above) or _COMMENTED_KEY.match(above)
            )
            assert explained, f"{EXAMPLE.name}:{number + 1}: key without a comment: {line}"


def _without(data: dict[str, Any], dotted: set[str]) -> dict[str, Any]:
    for key in dotted:
        *parents, last = key.split(".")
        node = data
        for part in parents:
            node = node[part]
        node.pop(last, None)
    return data


def test_example_values_are_the_defaults() -> None:
    # Validate without the loader, so that path resolution does not count as a difference.
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    example = Settings.model_validate(raw).model_dump(mode="json")
    defaults = Settings().model_dump(mode="json")
    assert _without(example, EXAMPLE_VALUES) == _without(defaults, EXAMPLE_VALUES)


@pytest.mark.parametrize("key", sorted(ENV_ONLY))
def test_secrets_are_not_set_in_the_example(key: str) -> None:
    active, _ = example_keys(EXAMPLE.read_text(encoding="utf-8"))
    assert key not in active
