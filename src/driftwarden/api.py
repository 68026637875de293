"""``driftwarden.check``: the drift check for notebooks and scripts, with ``[drift]``'s options.

The same computation as the daemon and the ``check`` command; the result also keeps
references to the data it was computed from, so that ``result.to_html()`` and Jupyter can
draw the distributions.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import pandas as pd

from driftwarden.config.model import DriftConfig
from driftwarden.detectors.base import DriftResult
from driftwarden.detectors.drift import check_drift
from driftwarden.detectors.prepared import PreparedReference
from driftwarden.detectors.report.views import attach_data

# Options that decide which columns are prepared, so they are fixed with a PreparedReference.
PREPARATION_OPTIONS = ("columns", "exclude_columns", "categorical_columns", "mmd")


def drift_config(
    config: DriftConfig | Mapping[str, Any] | None, options: Mapping[str, Any]
) -> DriftConfig:
    """``config`` (or the defaults) with ``options`` on top, validated like the config file.

    Raises:
        TypeError: an option that ``[drift]`` does not have (the message suggests the
            nearest one).
        pydantic.ValidationError: a value out of range or of the wrong type (a ValueError).
    """
    known = list(DriftConfig.model_fields)
    for key in options:
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise TypeError(
                f"unknown drift option {key!r}{hint}; valid options: {', '.join(known)}"
            )
    if isinstance(config, DriftConfig):
        base: dict[str, Any] = config.model_dump()
    else:
        base = dict(config or {})
    return DriftConfig.model_validate({**base, **options})


def check(
    reference: pd.DataFrame | PreparedReference,
    current: pd.DataFrame,
    config: DriftConfig | Mapping[str, Any] | None = None,
    *,
    target: str | None = None,
    reference_version: str | None = None,
    current_version: str | None = None,
    **options: Any,
) -> DriftResult:
    """Test ``current`` for drift against ``reference``, feature by feature.

    Args:
        reference: the reference data, or a ``PreparedReference`` made once with
            ``PreparedReference.from_frame(frame, config)`` and reused for many checks.
        current: the batch to test.
        config: a ``DriftConfig`` or a mapping of ``[drift]`` keys (default: the defaults).
        target: the label column, never tested (a frame reference only).
        reference_version: a name for the reference's data version, shown in the result
            and the report (a frame reference only).
        current_version: the same for the batch.
        **options: any ``[drift]`` key, overriding ``config``: ``alpha=0.01``,
            ``correction="holm"``, ``columns=["age", "plan"]``, ``effect_size_floor=0.1``...
            With a ``PreparedReference``, the column choice (``columns``,
            ``exclude_columns``, ``categorical_columns``, ``mmd``) was made when it was
            prepared and cannot be passed here.

    Returns:
        A ``DriftResult``: ``dataset_drift``, ``drifted_features``, a ``FeatureResult`` per
        tested column (drifted first), schema findings; ``to_frame()``, ``to_html()`` and
        ``to_dict()`` give it as a table, a report and JSON-safe data.

    Raises:
        TypeError: ``current`` (or ``reference``) is not a DataFrame, or an unknown option.
        ValueError: an option with a bad value, or a column option with a prepared reference.
        OptionalDependencyMissing: ``mmd`` is enabled and torch is not installed.
    """
    if not isinstance(current, pd.DataFrame):
        raise TypeError(f"current must be a pandas DataFrame, not {type(current).__name__}")
    cfg = drift_config(config, options)
    if isinstance(reference, PreparedReference):
        fixed = [k for k in PREPARATION_OPTIONS if k in options]
        fixed += [k for k, v in (("target", target), ("reference_version", reference_version)) if v]
        if fixed:
            raise ValueError(
                f"{', '.join(fixed)}: fixed when the reference was prepared; "
                "pass them to PreparedReference.from_frame"
            )
        prepared: PreparedReference = reference
        plot_reference: pd.DataFrame | PreparedReference = reference
    elif isinstance(reference, pd.DataFrame):
        prepared = PreparedReference.one_shot(reference, cfg, target, reference_version)
        plot_reference = reference
    else:
        raise TypeError(
            "reference must be a pandas DataFrame or a PreparedReference, "
            f"not {type(reference).__name__}"
        )
    result = check_drift(prepared, current, cfg, current_version)
    attach_data(result, plot_reference, current)
    return result
