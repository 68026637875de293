"""Generate the Markdown configuration reference from the config model.

The model is the only home of defaults and descriptions, so the reference in README.md is
generated from it, never written by hand; a test fails when the README copy is stale.

    python -m driftwarden.config.reference_doc                 # print the reference
    python -m driftwarden.config.reference_doc --write README.md
    python -m driftwarden.config.reference_doc --check README.md   # exit 1 when stale
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from driftwarden.config.model import MAX_SECONDS, Settings

START = "<!-- config-reference:start -->"
END = "<!-- config-reference:end -->"

_SCALAR_NAMES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Path: "path",
    SecretStr: "secret",
}


@dataclass(frozen=True)
class KeyDoc:
    """One key of a section as the reference shows it."""

    name: str
    type: str
    default: str
    description: str


@dataclass(frozen=True)
class SectionDoc:
    """One TOML table: its dotted name, what it is for, whether it may be absent, its keys."""

    name: str
    summary: str
    optional: bool
    keys: list[KeyDoc]


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The section model behind an annotation (unwrapping ``X | None``) and whether it is optional."""
    args = get_args(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(models) == 1 and type(None) in args:
            return models[0], True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _table_of_sections(annotation: Any) -> type[BaseModel] | None:
    """The section model of a ``dict[str, Section]`` field (``models``), else None."""
    if get_origin(annotation) is dict:
        value = get_args(annotation)[1]
        if isinstance(value, type) and issubclass(value, BaseModel):
            return value
    return None


def type_name(annotation: Any) -> str:
    """The TOML-facing name of a field type: ``one of "a", "b"``, ``list of string``, ..."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:  # ConfigPath, Seconds: the type is the first argument
        return type_name(args[0])
    if origin is Literal:
        return "one of " + ", ".join(json.dumps(a) for a in args)
    if origin in (Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        inner = " or ".join(type_name(a) for a in present)
        return f"{inner}, optional" if len(present) < len(args) else inner
    if origin is list:
        if get_origin(args[0]) is Literal:
            return "list of any of " + ", ".join(json.dumps(a) for a in get_args(args[0]))
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return "table" if args[1] is Any else f"table of {type_name(args[1])}"
    return _SCALAR_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _metadata(info: FieldInfo) -> list[Any]:
    """The field's constraints, including those of an ``Annotated`` type inside ``X | None``."""
    items = list(info.metadata)
    if get_origin(info.annotation) in (Union, types.UnionType):
        for arg in get_args(info.annotation):
            if get_origin(arg) is Annotated:
                for meta in get_args(arg)[1:]:
                    items.extend(getattr(meta, "metadata", [meta]))
    return items


def _bound(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def constraint_text(info: FieldInfo) -> str:
    """Bounds from ``Field(gt=..., le=..., min_length=...)`` as short text, e.g. ``>= 0, <= 10``."""
    parts = []
    for item in _metadata(info):
        if isinstance(item, annotated_types.Gt):
            parts.append(f"> {_bound(item.gt)}")
        elif isinstance(item, annotated_types.Ge):
            parts.append(f">= {_bound(item.ge)}")
        elif isinstance(item, annotated_types.Lt):
            parts.append(f"< {_bound(item.lt)}")
        elif isinstance(item, annotated_types.Le):
            parts.append("at most 10 years" if item.le == MAX_SECONDS else f"<= {_bound(item.le)}")
        elif isinstance(item, annotated_types.MinLen):
            parts.append("not empty" if item.min_length == 1 else f"length >= {item.min_length}")
    return ", ".join(parts)


def toml_value(value: Any) -> str:
    """A default as it would be written in the TOML file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value))


def default_text(info: FieldInfo) -> str:
    """The default of a field: a TOML value, ``unset`` for None, ``required`` when there is none."""
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "required"
    else:
        value = info.default
    return "unset" if value is None else toml_value(value)


def _summary(model: type[BaseModel]) -> str:
    doc = (model.__doc__ or "").strip()
    first_paragraph = doc.split("\n\n")[0]
    return " ".join(line.strip() for line in first_paragraph.splitlines())


def sections(model: type[BaseModel] = Settings, prefix: str = "") -> list[SectionDoc]:
    """Every table of the config, depth first, in declaration order."""
    keys: list[KeyDoc] = []
    nested: list[SectionDoc] = []
    for name, info in model.model_fields.items():
        sub, optional = _model_of(info.annotation)
        path = f"{prefix}.{name}" if prefix else name
        table_of = _table_of_sections(info.annotation)
        if table_of is not None:  # [models.<name>]: one table per entry, named by the user
            nested.extend(sections(table_of, f"{path}.<name>"))
            continue
        if sub is not None:
            children = sections(sub, path)
            if optional:
                first = children[0]
                children[0] = SectionDoc(first.name, first.summary, True, first.keys)
            nested.extend(children)
            continue
        kind = type_name(info.annotation)
        bounds = constraint_text(info)
        keys.append(
            KeyDoc(
                name=name,
                type=f"{kind} ({bounds})" if bounds else kind,
                default=default_text(info),
                description=info.description or "",
            )
        )
    own = [SectionDoc(prefix, _summary(model), False, keys)] if prefix else []
    return own + nested


def _cell(text: str) -> str:
    """Markdown table cell text: pipes escaped, ``<name>`` placeholders not taken for HTML tags."""
    return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text.replace("|", "\\|"))


def render_markdown() -> str:
    """The whole reference: one heading and table per TOML table."""
    out = [
        "Generated from `src/driftwarden/config/model.py` by "
        "`python -m driftwarden.config.reference_doc --write README.md`; do not edit by hand.",
        "",
    ]
    for section in sections():
        out.append(f"#### `[{section.name}]`")
        out.append("")
        summary = section.summary
        if section.optional:
            summary += " Optional table: absent unless you add it."
        out.append(summary)
        out.append("")
        if section.keys:
            out.append("| Key | Type | Default | Description |")
            out.append("| --- | --- | --- | --- |")
            for key in section.keys:
                default = (
                    f"`{key.default}`" if key.default not in ("unset", "required") else key.default
                )
                out.append(
                    f"| `{key.name}` | {_cell(key.type)} | {_cell(default)} | {_cell(key.description)} |"
                )
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def replace_between_markers(text: str, generated: str) -> str:
    """``text`` with everything between the two markers replaced by ``generated``."""
    start = text.find(START)
    end = text.find(END)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"markers {START} ... {END} not found in order")
    head = text[: start + len(START)]
    return f"{head}\n{generated}{text[end:]}"


def main(argv: Sequence[str] | None = None) -> int:
    """Print, write or check the reference; exit 1 from --check when the file is stale."""
    parser = argparse.ArgumentParser(prog="python -m driftwarden.config.reference_doc")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="FILE", help="replace the marked section of FILE")
    group.add_argument("--check", metavar="FILE", help="exit 1 when FILE's section is stale")
    args = parser.parse_args(argv)
    generated = render_markdown()
    target = args.write or args.check
    if target is None:
        sys.stdout.write(generated)
        return 0
    path = Path(target)
    text = path.read_text(encoding="utf-8")
    try:
        updated = replace_between_markers(text, generated)
    except ValueError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if updated != text:
            print(f"{path}: configuration reference is stale; run {parser.prog} --write {path}")
            return 1
        return 0
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
