"""Walk the config model: every leaf key as a dotted path (written apart from reference_doc)."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from driftwarden.config.model import Settings


def section_model(annotation: Any) -> type[BaseModel] | None:
    """The section model behind a field annotation, unwrapping ``X | None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        models = [
            a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        return models[0] if len(models) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def model_keys(model: type[BaseModel] = Settings, prefix: str = "") -> dict[str, Any]:
    """Every leaf key of the model as a dotted path, mapped to its pydantic FieldInfo."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        sub = section_model(info.annotation)
        entries = get_args(info.annotation)[1] if get_origin(info.annotation) is dict else None
        if isinstance(entries, type) and issubclass(entries, BaseModel):
            # A table of sections named by the user ([models.<name>]).
            out.update(model_keys(entries, f"{path}.<name>"))
        elif sub is not None:
            out.update(model_keys(sub, path))
        else:
            out[path] = info
    return out
