"""The configuration reference in README.md is generated from the model and kept in sync."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from driftwarden.config import reference_doc
from driftwarden.config.model import Section, Settings
from driftwarden.config.reference_doc import (
    END,
    START,
    default_text,
    render_markdown,
    replace_between_markers,
    sections,
    type_name,
)
from tests.config.model_walk import model_keys

README = Path(__file__).resolve().parents[2] / "README.md"
REFRESH = "python -m driftwarden.config.reference_doc --write README.md"


def test_readme_reference_is_up_to_date() -> None:
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text
    assert replace_between_markers(text, render_markdown()) == text, (
        f"README.md's configuration reference is stale: run `{REFRESH}`"
    )


def test_reference_has_a_row_for_every_key() -> None:
    rendered = {(s.name, k.name) for s in sections() for k in s.keys}
    expected = {tuple(path.rsplit(".", 1)) for path in model_keys()}
    assert rendered == expected


def test_every_key_has_a_description() -> None:
    undocumented = [f"{s.name}.{k.name}" for s in sections() for k in s.keys if not k.description]
    assert undocumented == [], f"add Field(description=...) for: {undocumented}"


def test_every_section_has_a_summary() -> None:
    assert [s.name for s in sections() if not s.summary] == []


def test_sections_are_nested_tables_in_declaration_order() -> None:
    names = [s.name for s in sections()]
    assert names[0] == "mlflow"
    assert "schedule.drift" in names
    assert "drift.mmd" in names
    assert names.index("drift") < names.index("drift.mmd") < names.index("validation")
    optional = {s.name for s in sections() if s.optional}
    assert optional == {"alerts.webhook", "alerts.alertmanager"}
    # [models.<name>] is documented as the table each entry of `models` is.
    assert set(Settings.model_fields) - {"models"} <= set(names)
    assert "models.<name>" in names and "models" not in names


def test_rows_show_type_default_and_description() -> None:
    text = render_markdown()
    assert (
        "| `port` | integer (>= 0, <= 65535) | `9108` | "
        "Port for /metrics, /healthz, /readyz (0: any free) |"
    ) in text
    assert re.search(r"\| `tracking_uri` \| string, optional \| unset \| .*&lt;state", text)
    assert "| `url` | string | required |" in text


class _Example(Section):
    choice: Literal["a", "b"] = "a"
    items: list[str] = Field(default_factory=lambda: ["x"])
    table: dict[str, float] = Field(default_factory=dict)
    maybe: int | None = None
    flag: bool = False
    path_like: str = Field("p|q")


@pytest.mark.parametrize(
    ("field", "expected_type", "expected_default"),
    [
        ("choice", 'one of "a", "b"', '"a"'),
        ("items", "list of string", '["x"]'),
        ("table", "table of number", "{}"),
        ("maybe", "integer, optional", "unset"),
        ("flag", "boolean", "false"),
        ("path_like", "string", '"p|q"'),
    ],
)
def test_type_and_default_rendering(field: str, expected_type: str, expected_default: str) -> None:
    info = _Example.model_fields[field]
    assert type_name(info.annotation) == expected_type
    assert default_text(info) == expected_default


def test_pipes_in_cells_are_escaped() -> None:
    assert reference_doc._cell("a|b <state.directory> >= 1") == "a\\|b &lt;state.directory> >= 1"


def test_replace_between_markers_keeps_the_rest() -> None:
    text = f"before\n{START}\nold\n{END}\nafter\n"
    assert replace_between_markers(text, "new\n") == f"before\n{START}\nnew\n{END}\nafter\n"
    with pytest.raises(ValueError):
        replace_between_markers("no markers", "x")


def test_check_and_write_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n{START}\nold\n{END}\n", encoding="utf-8")
    assert reference_doc.main(["--check", str(stale)]) == 1
    assert "stale" in capsys.readouterr().out
    assert reference_doc.main(["--write", str(stale)]) == 0
    assert reference_doc.main(["--check", str(stale)]) == 0
    assert "#### `[watch]`" in stale.read_text(encoding="utf-8")
    no_markers = tmp_path / "other.md"
    no_markers.write_text("nothing\n", encoding="utf-8")
    assert reference_doc.main(["--check", str(no_markers)]) == 2
