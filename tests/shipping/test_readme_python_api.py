"""The README's Python API examples run as shown and print what they say (doctest)."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_python_api_examples_run_as_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # an example writes report.html
    blocks = re.findall(r"```pycon\n(.*?)```", section("Python API"), re.S)
    assert len(blocks) >= 4
    parser, globs = doctest.DocTestParser(), dict[str, object]()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for i, block in enumerate(blocks):  # one namespace: later blocks use earlier names
        test = parser.get_doctest(block, globs, f"README Python API block {i + 1}", str(README), 0)
        runner.run(test, out=lambda text: pytest.fail(text), clear_globs=False)
        globs = test.globs
    assert runner.summarize(verbose=False).failed == 0
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_every_public_name_is_documented_in_the_python_api_section() -> None:
    import driftwarden

    text = section("Python API")
    for name in driftwarden.__all__:
        if name != "__version__":
            assert f"`{name}`" in text or f"`driftwarden.{name}`" in text, name


def test_render_html_keywords_are_documented_as_they_are() -> None:
    """The README lists render_html's keywords with their defaults, as the code has them."""
    import inspect

    from driftwarden.detectors.report import render_html

    text = " ".join(section("Python API").split())
    for name, parameter in inspect.signature(render_html).parameters.items():
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            assert f"{name}={parameter.default!r}" in text, name
