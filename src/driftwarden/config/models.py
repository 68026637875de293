"""``[models.<name>]`` tables resolved into each model's effective sections.

One daemon keeps several models when the file has ``[models.<name>]`` tables instead of the
single ``[model]``. The table's name is the registered model name unless its ``name`` key
says otherwise. A model's ``reference``, ``watch``, ``drift``, ``validation``, ``estimation``
and ``retrain`` tables override the top-level ones key by key: the top-level section (defaults filled in)
is merged with the model's keys (into nested sections such as ``drift.mmd`` too; a
table-valued key such as ``validation.minimums`` is replaced whole) and validated as that
section, so every rule of the section holds for the result and an error names the model's
key (``models.churn.drift.alpha``). Every drop directory belongs to exactly one model.

Adding an overridable section is one field of ``ModelTable``; ``OVERRIDES`` follows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from driftwarden.config.layout import drop_layout_problems
from driftwarden.config.messages import _section, format_validation_error
from driftwarden.config.model import (
    EstimationConfig,
    ModelConfig,
    ModelTable,
    ReferenceConfig,
    RetrainConfig,
    Section,
    Settings,
    ValidationConfig,
    WatchConfig,
    fit_to_task,
)
from driftwarden.config.paths import resolve_estimation_path, resolve_model_paths
from driftwarden.errors import ConfigError, UsageError

# The top-level sections a [models.<name>] table may override, in declaration order.
OVERRIDES: tuple[str, ...] = tuple(
    name for name in ModelTable.model_fields if name in Settings.model_fields
)
# Every section a model has its own of: [model]'s keys and the overridable sections.
PER_MODEL: tuple[str, ...] = ("model", *OVERRIDES)
# The keys of a [models.<name>] table that are [model]'s.
MODEL_KEYS: tuple[str, ...] = tuple(ModelConfig.model_fields)


def refuse_model_and_models(raw: Mapping[str, Any], path: Path | None) -> None:
    """``[model]`` means one model and ``[models.<name>]`` several: a file uses one of them."""
    where = str(path) if path else "<defaults>"
    if "models" not in raw:
        return
    if "model" in raw:
        raise ConfigError(
            f"{where}: models: [model] and [models.<name>] tables cannot be used together; "
            "move [model]'s keys into a [models.<name>] table (one per model)"
        )
    if isinstance(raw["models"], dict) and not raw["models"]:
        raise ConfigError(
            f"{where}: models: the table is empty; add one [models.<name>] table per model "
            "(or use [model] for a single model)"
        )


def model_keys(settings: Settings) -> dict[str, str]:
    """Registered model name -> how its keys are named in messages (``models.<table>.``, or
    ``""`` for the single ``[model]``, whose sections are the top-level ones)."""
    if not settings.models:
        return {settings.model.name: ""}
    return {(entry.name or table): f"models.{table}." for table, entry in settings.models.items()}


def one_model(settings: Settings, model: str | None) -> Settings:
    """The settings of the model a command acts on by hand (``retrain``, ``rollback``):
    ``--model NAME``, which may be left out when the file keeps one model."""
    kept = settings.kept_models()
    if model is None:
        if len(kept) == 1:
            return next(iter(kept.values()))
        raise UsageError(f"--model: this config keeps {len(kept)} models; name one of {list(kept)}")
    if model not in kept:
        raise UsageError(f"--model: {model!r} is not kept by this config; kept: {list(kept)}")
    return kept[model]


def resolve_models(
    settings: Settings, base: Path, path: Path | None = None
) -> dict[str, dict[str, Section]]:
    """Each model's effective sections, by registered model name (in table order).

    ``settings`` has its top-level paths resolved already; the models' own paths are made
    absolute against ``base`` (the config file's directory). Raises ConfigError with one
    line per problem: a key of a model's table, a registered name used twice, a drop
    directory shared by two models.
    """
    where = str(path) if path else "<defaults>"
    problems: list[str] = []
    resolved: dict[str, dict[str, Section]] = {}
    tables: dict[str, str] = {}  # registered name -> its table
    for table, entry in settings.models.items():
        name = entry.name or table
        if name in tables:
            problems.append(
                f"{where}: models.{table}.name: registered model {name!r} is kept by "
                f"[models.{tables[name]}] already; each table keeps a different model"
            )
            continue
        tables[name] = table
        sections, found = _sections(settings, table, entry, name, base, path)
        problems += found
        if not found:
            resolved[name] = sections
            problems += [
                f"{where}: models.{table}.{line}" for line in drop_layout_problems(_watch(sections))
            ]
    problems += [f"{where}: {line}" for line in shared_drop_problems(_watches(resolved, tables))]
    if problems:
        raise ConfigError("\n".join(dict.fromkeys(problems)))
    return resolved


def _sections(
    settings: Settings, table: str, entry: ModelTable, name: str, base: Path, path: Path | None
) -> tuple[dict[str, Section], list[str]]:
    """The model's sections, or the lines saying what is wrong with its table."""
    own = {key: getattr(entry, key) for key in MODEL_KEYS if key != "name"}
    model = ModelConfig(name=name, **own)
    sections: dict[str, Section] = {"model": model}
    problems: list[str] = []
    for section in OVERRIDES:
        top: Section = getattr(settings, section)
        kind = type(top)
        merged = merge_section(kind, top.model_dump(), getattr(entry, section))
        try:
            sections[section] = kind.model_validate(merged)
        except ValidationError as exc:
            shown = ("models", table, section)
            problems.append(format_validation_error(exc, path, shown, (section,)))
    if problems:
        return sections, problems
    reference, retrain, estimation = (sections[s] for s in ("reference", "retrain", "estimation"))
    assert isinstance(reference, ReferenceConfig) and isinstance(retrain, RetrainConfig)
    assert isinstance(estimation, EstimationConfig)
    resolve_model_paths(_watch(sections), reference, retrain, base)
    resolve_estimation_path(estimation, base)
    where = str(path) if path else "<defaults>"
    validation, promotion = sections["validation"], retrain.promotion
    assert isinstance(validation, ValidationConfig)
    chosen = settings.chosen_task_keys() | {f"validation.{key}" for key in entry.validation}
    if "metric" in entry.retrain.get("promotion", {}):
        chosen.add("retrain.promotion.metric")
    problem = fit_to_task(validation, promotion, model.task, chosen)
    if problem:
        problems.append(f"{where}: models.{table}.{problem}")
    unsuited = estimation.unsuited(model.task)
    if unsuited:
        problems.append(f"{where}: models.{table}.estimation.method: {unsuited}")
    return sections, problems


def merge_section(
    kind: type[BaseModel], base: Mapping[str, Any], override: Mapping[str, Any]
) -> dict[str, Any]:
    """``base`` with ``override``'s keys, key by key; nested sections are merged the same way."""
    out = dict(base)
    for key, value in override.items():
        info = kind.model_fields.get(key)
        nested = _section(info.annotation) if info is not None else None
        if nested is not None and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_section(nested, out[key], value)
        else:
            out[key] = value
    return out


def _watch(sections: Mapping[str, Section]) -> WatchConfig:
    watch = sections["watch"]
    assert isinstance(watch, WatchConfig)
    return watch


def _watches(
    resolved: Mapping[str, Mapping[str, Section]], tables: Mapping[str, str]
) -> list[tuple[str, WatchConfig]]:
    return [(tables[name], _watch(sections)) for name, sections in resolved.items()]


def shared_drop_problems(watches: list[tuple[str, WatchConfig]]) -> list[str]:
    """One line per drop directory that two models would share (directly or by nesting).

    A file belongs to exactly one model, so no drop directory may be another model's, lie in
    a directory another model watches recursively, or be where another model moves its
    processed or quarantined files.
    """
    problems: list[str] = []
    for i, (table, watch) in enumerate(watches):
        for j, (other, theirs) in enumerate(watches):
            if i == j:
                continue
            for index, root in enumerate(watch.paths):
                why = _shared(root, f"[models.{other}]", theirs, earlier=j < i)
                if why:
                    problems.append(
                        f"models.{table}.watch.paths[{index}]: {str(root)!r} {why}; every drop "
                        f"directory belongs to one model (got {str(root)!r})"
                    )
    return problems


def _shared(root: Path, other: str, theirs: WatchConfig, earlier: bool) -> str | None:
    """How ``root`` collides with the watch of the model in table ``other`` (None: it does not)."""
    for their_root in theirs.paths:
        if root == their_root:
            # Reported once, on the later of the two tables.
            return f"is also a drop directory of {other}" if earlier else None
        if theirs.recursive and their_root in root.parents:
            return f"lies in {str(their_root)!r}, which {other} watches recursively"
        for key, default in (("processed_dir", "processed"), ("quarantine_dir", "quarantine")):
            target = getattr(theirs, key) or their_root / default
            if root == target or target in root.parents:
                return (
                    f"is where {other} puts the {default} files of {str(their_root)!r} "
                    f"({str(target)!r})"
                )
    return None
