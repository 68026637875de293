"""Names from files are quoted bounded and escaped in every reason."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from driftwarden.data.quoting import escape_text, quote_name, quote_names
from tests.support.hypothesis_profiles import examples


def test_quote_names_shows_twenty_names_then_a_count() -> None:
    names = [f"c{i}" for i in range(25)]
    assert quote_names(names) == "[" + ", ".join(f"'c{i}'" for i in range(20)) + ", +5 more]"
    assert quote_names(["a", "b"]) == "['a', 'b']"
    assert quote_names([]) == "[]"


def test_a_long_name_is_cut_and_control_characters_are_escaped() -> None:
    shadow = "root:$y$j9T$" + "a" * 80 + ":19700:0:99999:7:::"
    assert quote_name(shadow) == repr(shadow[:39] + "…")
    assert quote_name("a\nreason: forged\x1b[2J") == "'a\\nreason: forged\\x1b[2J'"


@settings(max_examples=examples(200))
@given(st.lists(st.text(), max_size=60))
@example(["\n" * 100, "\u2028", "\x00"])
def test_quoted_names_are_one_bounded_line(names: list[str]) -> None:
    text = quote_names(names)
    assert text.isprintable()
    # 20 names of at most 40 characters, each escape at most 10 characters wide
    assert len(text) <= 20 * (40 * 10 + 4) + 20


@settings(max_examples=examples(200))
@given(st.text())
def test_escape_text_is_one_printable_line_and_leaves_printable_text_alone(text: str) -> None:
    escaped = escape_text(text)
    assert escaped.isprintable()
    if text.isprintable():
        assert escaped == text
