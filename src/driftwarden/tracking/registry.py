"""Model registry reads and writes: best run, idempotent registration, aliases, stages, tags.

Every function takes the ``MlflowClient`` to use and maps "MLflow cannot be reached" to
``MlflowUnavailable``; "not found" answers are ``None``, not exceptions.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    ErrorCode,
)
from mlflow.tracking import MlflowClient

from driftwarden.tracking.client import unavailable_or_raise

T = TypeVar("T")

_NOT_FOUND = {
    ErrorCode.Name(RESOURCE_DOES_NOT_EXIST),
    ErrorCode.Name(INVALID_PARAMETER_VALUE),  # e.g. an alias that is not set
    "NOT_FOUND",
}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def normalized(version: ModelVersion) -> ModelVersion:
    """The same version with ``.version`` as a str.

    The sqlite store returns ints and the REST store strs although both declare str;
    every function here returns strs so that callers can compare without surprises.
    """
    version._version = str(version.version)
    return version


@contextmanager
def mlflow_calls() -> Iterator[None]:
    """Turn connection failures inside the block into ``MlflowUnavailable``."""
    try:
        yield
    except MlflowException as exc:
        raise unavailable_or_raise(exc) from exc


def _or_none(call: Callable[[], T]) -> T | None:
    """The call's result, ``None`` when MLflow says the thing does not exist."""
    try:
        return call()
    except MlflowException as exc:
        if exc.error_code in _NOT_FOUND:
            return None
        raise unavailable_or_raise(exc) from exc


@contextmanager
def _stages_allowed() -> Iterator[None]:
    """Stages are deprecated (FutureWarning) but still supported as an option."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        yield


def quote_key(kind: str, key: str) -> str:
    """``metrics.test_score``, or ``metrics.`odd key``` for keys MLflow's parser needs quoted."""
    return f"{kind}.{key}" if _IDENTIFIER.match(key) else f"{kind}.`{key}`"


def find_best_run(
    client: MlflowClient,
    experiment_name: str,
    metric: str,
    threshold: float | None,
    direction: str = "higher",
) -> Run | None:
    """The finished run of ``experiment_name`` with the best ``metric`` past ``threshold``.

    ``direction`` ``higher``: the highest value above the threshold; ``lower`` (error
    metrics): the lowest value below it. ``threshold=None`` takes the best finished run
    that has the metric at all. Ties go to the newest run. ``None`` when the experiment
    does not exist or no run qualifies.
    """
    with mlflow_calls():
        experiment = client.get_experiment_by_name(experiment_name)
        if experiment is None:
            return None
        key = quote_key("metrics", metric)
        lower = direction == "lower"
        rule = "attributes.status = 'FINISHED'"
        if threshold is not None:
            rule = f"{key} {'<' if lower else '>'} {float(threshold)!r} and {rule}"
        runs = client.search_runs(
            experiment_ids=[experiment.experiment_id],
            filter_string=rule,
            order_by=[f"{key} {'ASC' if lower else 'DESC'}", "attributes.start_time DESC"],
            max_results=1 if threshold is not None else 50,
        )
    found = [run for run in runs if metric in run.data.metrics]
    return found[0] if found else None


def versions_of_run(client: MlflowClient, model_name: str, run_id: str) -> list[ModelVersion]:
    """Versions of ``model_name`` registered from ``run_id``, oldest first."""
    with mlflow_calls():
        found = client.search_model_versions(f"run_id='{run_id}'")
    return sorted(
        (normalized(v) for v in found if v.name == model_name), key=lambda v: int(v.version)
    )


def register_run(
    client: MlflowClient, run_id: str, model_name: str, artifact_path: str = "model"
) -> ModelVersion:
    """Register ``runs:/<run_id>/<artifact_path>`` as a version of ``model_name``.

    Idempotent: if the run is already registered under that name, its (oldest) version
    is returned and nothing is created. The registered model is created when missing.
    """
    existing = versions_of_run(client, model_name, run_id)
    if existing:
        return existing[0]
    with mlflow_calls():
        try:
            client.create_registered_model(model_name)
        except MlflowException as exc:
            if exc.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
        source, model_id = _model_source(client, run_id, artifact_path)
        created = client.create_model_version(
            model_name, source, run_id=run_id, model_id=model_id, await_creation_for=60
        )
        return normalized(created)


def _model_source(client: MlflowClient, run_id: str, artifact_path: str) -> tuple[str, str | None]:
    """Where the run's model lives: MLflow 3 logs models as LoggedModels (``models:/m-...``).

    Falls back to the run's artifact folder for models logged the MLflow 2 way.
    """
    run = client.get_run(run_id)
    page_token = None
    while True:
        page = client.search_logged_models(
            experiment_ids=[run.info.experiment_id],
            filter_string=f"name = '{artifact_path}'",
            page_token=page_token,
        )
        for logged in page:
            if logged.source_run_id == run_id:
                return f"models:/{logged.model_id}", logged.model_id
        page_token = page.token
        if not page_token:
            break
    names = {a.path for a in client.list_artifacts(run_id, artifact_path)}
    if f"{artifact_path}/MLmodel" in names:
        return f"{run.info.artifact_uri.rstrip('/')}/{artifact_path}", None
    raise MlflowException(
        f"run {run_id} has no model named {artifact_path!r}",
        error_code=ErrorCode.Name(RESOURCE_DOES_NOT_EXIST),
    )


def set_alias(client: MlflowClient, name: str, alias: str, version: str | int) -> None:
    """Point ``alias`` of model ``name`` at ``version`` (moves it if set elsewhere)."""
    with mlflow_calls():
        client.set_registered_model_alias(name, alias, str(version))


def get_version_by_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """The version ``alias`` points at; ``None`` when the model or the alias does not exist."""
    found = _or_none(lambda: client.get_model_version_by_alias(name, alias))
    return normalized(found) if found is not None else None


def get_version(client: MlflowClient, name: str, version: str | int) -> ModelVersion | None:
    """One version (with its aliases filled in); ``None`` when it does not exist."""
    found = _or_none(lambda: client.get_model_version(name, str(version)))
    return normalized(found) if found is not None else None


def transition_stage(
    client: MlflowClient,
    name: str,
    version: str | int,
    stage: str,
    archive_existing_versions: bool = True,
) -> ModelVersion:
    """Move ``version`` to a legacy stage (``Staging``, ``Production``, ``Archived``).

    Other versions in that stage are archived by default, as the old CI recipe did.
    """
    with mlflow_calls(), _stages_allowed():
        return normalized(
            client.transition_model_version_stage(
                name,
                str(version),
                stage,
                archive_existing_versions=archive_existing_versions and stage != "Archived",
            )
        )


def get_version_by_stage(client: MlflowClient, name: str, stage: str) -> ModelVersion | None:
    """The newest version in a legacy stage; ``None`` when there is none."""
    with _stages_allowed():
        versions = _or_none(lambda: client.get_latest_versions(name, stages=[stage]))
    if not versions:
        return None
    return normalized(max(versions, key=lambda v: int(v.version)))


def tag_version(
    client: MlflowClient, name: str, version: str | int, tags: dict[str, object]
) -> None:
    """Set tags on a model version (values become strings)."""
    with mlflow_calls():
        for key, value in tags.items():
            client.set_model_version_tag(name, str(version), key, str(value))
