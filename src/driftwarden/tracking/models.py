"""Load registered models, predict with them, and fetch the data logged with them.

``predict_outputs`` adds what performance estimation needs: class probabilities where the
flavour has them (scikit-learn's ``predict_proba``). ``download_training_data`` and
``download_test_split`` fetch the training frame and the held-out split that the model's
run logged (the example projects log both).

``mlflow.pyfunc.load_model`` reads the process-wide tracking/registry URIs, which
``configure_mlflow`` sets; the client passed in is used for registry lookups.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from driftwarden.data.read import SUPPORTED_SUFFIXES
from driftwarden.detectors.estimation.outputs import (
    Outputs,
    classifier_outputs,
    regressor_outputs,
)
from driftwarden.errors import InputFileError, UsageError
from driftwarden.tracking.client import unavailable_or_raise
from driftwarden.tracking.registry import (
    get_version,
    get_version_by_alias,
    get_version_by_stage,
    mlflow_calls,
)
from driftwarden.tracking.skops_import import import_skops

_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/]+)$")
_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<ref>[^/]+)$")
_RUNS_URI = re.compile(r"^runs:/(?P<run_id>[^/]+)/")


@dataclass
class ProductionModel:
    """A loaded model and where it came from (name/version are None for a plain run URI)."""

    name: str | None
    version: str | None
    run_id: str | None
    uri: str
    model: Any  # mlflow.pyfunc.PyFuncModel
    input_columns: list[str] | None
    input_types: dict[str, str] | None = None  # column -> MLflow type name ("double", ...)

    @property
    def label(self) -> str:
        """``name v3`` or the URI, for messages."""
        return f"{self.name} v{self.version}" if self.name and self.version else self.uri


def _load(uri: str, name: str | None, version: str | None, run_id: str | None) -> ProductionModel:
    import_skops()  # before MLflow's own import of it, which would also import torch
    try:
        model = mlflow.pyfunc.load_model(uri)
    except MlflowException as exc:
        raise unavailable_or_raise(exc) from exc
    schema = model.metadata.get_input_schema()
    columns: list[str] | None = None
    types: dict[str, str] | None = None
    if schema is not None and schema.has_input_names():
        columns = [str(c) for c in schema.input_names()]
        types = {
            str(spec.name): str(getattr(spec.type, "name", spec.type)) for spec in schema.inputs
        }
    return ProductionModel(
        name, version, run_id or model.metadata.run_id, uri, model, columns, types
    )


def load_model_version(client: MlflowClient, name: str, version: str | int) -> ProductionModel:
    """Load version ``version`` of registered model ``name``; UsageError when it does not exist."""
    found = get_version(client, name, version)
    if found is None:
        raise UsageError(f"registered model {name!r} has no version {version}")
    return _load(f"models:/{name}/{found.version}", name, str(found.version), found.run_id)


def load_model_uri(client: MlflowClient, uri: str) -> ProductionModel:
    """Load ``models:/name@alias``, ``models:/name/<version|stage>``, ``runs:/...`` or any URI.

    Registry URIs are resolved to a concrete version first, so the result says which
    version was used; a missing alias/version/stage is a UsageError saying what to do.
    """
    if match := _ALIAS_URI.match(uri):
        name, alias = match["name"], match["alias"]
        version = get_version_by_alias(client, name, alias)
        if version is None:
            raise UsageError(
                f"{uri}: model {name!r} has no version with alias {alias!r} "
                "(run `driftwarden register` first, or pass --model-uri)"
            )
    elif match := _VERSION_URI.match(uri):
        name, ref = match["name"], match["ref"]
        if ref.isdigit():
            version = get_version(client, name, ref)
        else:
            version = get_version_by_stage(client, name, ref)
        if version is None:
            raise UsageError(f"{uri}: model {name!r} has no version {ref!r}")
    else:
        run_match = _RUNS_URI.match(uri)
        return _load(uri, None, None, run_match["run_id"] if run_match else None)
    return _load(f"models:/{name}/{version.version}", name, str(version.version), version.run_id)


def predict(
    model: ProductionModel, frame: pd.DataFrame, source: str | os.PathLike[str] | None = None
) -> np.ndarray:
    """Predict on the model's input columns of ``frame`` (extra columns are ignored).

    Raises ``InputFileError`` naming ``source`` and the column when the frame lacks a
    column of the model's signature or a value does not fit its type.
    """
    where = source if source is not None else "<data>"
    features = model_features(model, frame, where)
    try:
        with warnings.catch_warnings():
            # MLflow warns when it casts ints to the signature's doubles; that is fine here.
            warnings.filterwarnings("ignore", category=UserWarning, module="mlflow")
            predictions = model.model.predict(features)
    except MlflowException as exc:
        raise InputFileError(
            where, f"does not match the signature of {model.label}: {_first_line(exc)}"
        ) from None
    except (ValueError, TypeError) as exc:
        # The model's own refusal (sklearn: "Input X contains NaN", values it cannot cast):
        # bad values in the file, not a failed check to retry.
        column, what = _unpredictable_column(features)
        raise InputFileError(
            where,
            f"the model {model.label} cannot predict on {what}: {_first_line(exc)}",
            field=column,
        ) from None
    return np.asarray(predictions).ravel()


def model_features(model: ProductionModel, frame: pd.DataFrame, where: object) -> pd.DataFrame:
    """The columns of the model's signature, in its order (the whole frame without one)."""
    if model.input_columns is None:
        return frame
    missing = [c for c in model.input_columns if c not in frame.columns]
    if missing:
        raise InputFileError(
            where,
            f"missing {len(missing)} column(s) the model {model.label} expects: {missing}",
            field=missing[0],
        )
    return _widen_integers(frame[model.input_columns], model.input_types or {})


def predict_outputs(
    model: ProductionModel,
    frame: pd.DataFrame,
    task: str,
    source: str | os.PathLike[str] | None = None,
) -> Outputs:
    """The model's outputs for performance estimation: values, or classes with probabilities.

    Classifiers need class probabilities: the flavour's underlying model must have
    ``predict_proba`` and ``classes_`` (scikit-learn does). Raises ``UsageError`` when it
    has none (the outputs can then come as columns of the files), ``InputFileError`` as
    ``predict`` does.
    """
    where = source if source is not None else "<data>"
    predictions = predict(model, frame, source=where)
    if task == "regression":
        return regressor_outputs(predictions, where)
    raw = raw_model(model)
    if raw is None or not hasattr(raw, "predict_proba") or not hasattr(raw, "classes_"):
        raise UsageError(
            f"{model.label} gives no class probabilities (its flavour has no predict_proba); "
            "put the outputs in the files instead (prediction and proba_<class> columns)"
        )
    features = model_features(model, frame, where)
    try:
        proba = np.asarray(raw.predict_proba(features), dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise InputFileError(where, f"{model.label} cannot score these rows: {exc}") from None
    return classifier_outputs(proba, list(raw.classes_), predictions, where)


def raw_model(model: ProductionModel) -> Any:
    """The flavour's own model object (e.g. the scikit-learn estimator), or None."""
    try:
        return model.model.get_raw_model()
    except (AttributeError, NotImplementedError):
        return None


def _unpredictable_column(features: pd.DataFrame) -> tuple[str | None, str]:
    """The first column with values a model commonly refuses (missing, infinite, text),
    and what they are; (None, "these values") when none stands out."""
    for column in features.columns:
        values = features[column]
        if values.isna().any():
            return str(column), f"missing values ({int(values.isna().sum())} rows)"
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            infinite = int(np.isinf(values.to_numpy(dtype="float64")).sum())
            if infinite:
                return str(column), f"infinite values ({infinite} rows)"
        elif not pd.api.types.is_bool_dtype(values):
            return str(column), "non-numeric values"
    return None, "these values"


_FLOATS = {"double": "float64", "float": "float32"}


def _widen_integers(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Integer columns where the signature wants floats become floats.

    A CSV column whose values happen to be whole numbers reads as int64, and MLflow
    refuses int64 for a double column; the values are the same numbers.
    """
    widen = {
        column: _FLOATS[kind]
        for column, kind in types.items()
        if kind in _FLOATS
        and column in frame.columns
        and (
            pd.api.types.is_integer_dtype(frame[column])
            or pd.api.types.is_bool_dtype(frame[column])
        )
    }
    return frame.astype(widen) if widen else frame


def _first_line(exc: BaseException) -> str:
    """The useful part of an MLflow error (schema errors start with a dump of the data)."""
    text = str(exc).strip()
    if "Error: " in text:
        text = text.rsplit("Error: ", 1)[1].strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__


def download_training_data(
    client: MlflowClient, run_id: str, artifact_path: str, dst_dir: str | os.PathLike[str]
) -> Path:
    """Download the run's training-data folder and return the path of its one data file.

    The example project logs ``training_data/training_data.csv``; any single CSV or
    Parquet file in the folder is accepted (``training_data.*`` wins if there are several).
    """
    return download_data_file(
        client, run_id, artifact_path, dst_dir, "training_data", "training data"
    )


def download_test_split(
    client: MlflowClient, run_id: str, artifact_path: str, dst_dir: str | os.PathLike[str]
) -> Path:
    """Download the held-out split the run logged (features and target); return its file.

    The example projects log ``test_data/test_data.csv``: the rows ``test_score`` was
    measured on, which the model never trained on; performance estimation calibrates on
    them (``estimation.reference = "model"``, folder ``estimation.artifact_path``).
    """
    return download_data_file(client, run_id, artifact_path, dst_dir, "test_data", "held-out split")


def download_data_file(
    client: MlflowClient,
    run_id: str,
    artifact_path: str,
    dst_dir: str | os.PathLike[str],
    preferred_stem: str,
    what: str,
) -> Path:
    """Download an artifact folder and return its one CSV/Parquet file (``preferred_stem.*`` wins)."""
    where = f"runs:/{run_id}/{artifact_path}"
    dst = Path(dst_dir)
    dst.mkdir(parents=True, exist_ok=True)
    with mlflow_calls():
        listed = client.list_artifacts(run_id, artifact_path)
    if not listed:
        raise InputFileError(
            where, f"the run has no {what} there (log it under this artifact folder)"
        )
    try:
        local = Path(client.download_artifacts(run_id, artifact_path, str(dst)))
    except MlflowException as exc:
        raise unavailable_or_raise(exc) from exc
    files = sorted(
        p
        for p in (local.rglob("*") if local.is_dir() else [local])
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
    )
    if not files:
        raise InputFileError(where, f"no CSV or Parquet file among {[a.path for a in listed]}")
    if len(files) > 1:
        preferred = [p for p in files if p.stem == preferred_stem]
        if len(preferred) != 1:
            raise InputFileError(
                where, f"several data files, expected one: {[p.name for p in files]}"
            )
        return preferred[0]
    return files[0]
