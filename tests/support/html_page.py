"""Reading an HTML page as a browser's DOM would hold it: its elements, attributes and text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]


@dataclass
class Page:
    elements: list[Element] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    @property
    def tags(self) -> set[str]:
        return {e.tag for e in self.elements}

    @property
    def text(self) -> str:
        """The visible text, whitespace collapsed (style and script contents left out)."""
        return " ".join(" ".join(self.text_parts).split())

    def attribute_values(self, name: str) -> list[str]:
        return [e.attrs[name] for e in self.elements if name in e.attrs]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.elements.append(Element(tag, {k: v or "" for k, v in attrs}))
        if tag in ("style", "script", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.page.text_parts.append(data)


def read_page(markup: str) -> Page:
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    return reader.page
