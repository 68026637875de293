"""Verifying and parsing MLflow webhook deliveries.

The oracle for signatures is MLflow's own signing function (what `mlflow server` calls
before each POST); tests/integration/test_hooks_install.py checks real deliveries.
"""

from __future__ import annotations

import email.message
import json
import logging
import uuid

import pytest
from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from mlflow.webhooks.delivery import _generate_hmac_signature

from driftwarden.errors import ConfigError
from driftwarden.tracking.webhooks import (
    MAX_BODY_BYTES,
    RegistryEvent,
    WebhookOutcome,
    handle_mlflow_webhook,
    secret_from_env,
    sign,
)
from tests.support.hypothesis_profiles import examples

SECRET = "hooks-secret-for-tests"
NOW = 1_800_000_000


def mlflow_delivery(
    payload: dict[str, object] | bytes,
    secret: str = SECRET,
    ts: int = NOW,
    delivery_id: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and body exactly as mlflow/webhooks/delivery.py builds them."""
    body_text = payload.decode() if isinstance(payload, bytes) else json.dumps(payload)
    delivery_id = delivery_id or str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": str(ts),
        "X-MLflow-Signature": _generate_hmac_signature(secret, delivery_id, str(ts), body_text),
    }
    return headers, body_text.encode()


def payload(entity: str, action: str, **data: object) -> dict[str, object]:
    return {
        "entity": entity,
        "action": action,
        "timestamp": "2027-01-15T08:00:00+00:00",
        "data": data,
    }


ALIAS_CREATED = payload(
    "model_version_alias", "created", name="churn", alias="production", version="3"
)


def handle(headers: dict[str, str], body: bytes, now: float = NOW, **kw: float) -> WebhookOutcome:
    return handle_mlflow_webhook(headers, body, SECRET.encode(), now, **kw)


def test_our_signature_matches_mlflows() -> None:
    headers, body = mlflow_delivery(ALIAS_CREATED, delivery_id="d-1")
    assert sign(SECRET.encode(), "d-1", str(NOW), body) == headers["X-MLflow-Signature"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            payload(
                "model_version",
                "created",
                name="churn",
                version="4",
                source="models:/m-1",
                run_id="r1",
                tags={},
                description=None,
            ),
            ("model_version.created", "churn", 4, None),
        ),
        (ALIAS_CREATED, ("model_version_alias.created", "churn", 3, "production")),
        (
            payload("model_version_alias", "deleted", name="churn", alias="production"),
            ("model_version_alias.deleted", "churn", None, "production"),
        ),
    ],
)
def test_verified_registry_events_are_parsed(
    body: dict[str, object], expected: tuple[str, str, int | None, str | None]
) -> None:
    headers, raw = mlflow_delivery(body, delivery_id="d-7")
    status, event = handle(headers, raw)
    assert status == 200
    assert event == RegistryEvent(*expected, delivery_id="d-7", sent_at=NOW)


@pytest.mark.parametrize(
    "kind",
    [("model_version_tag", "set"), ("registered_model", "created"), ("prompt", "created")],
)
def test_other_events_are_acknowledged_and_ignored(kind: tuple[str, str]) -> None:
    headers, body = mlflow_delivery(payload(*kind, name="churn", version="1", key="k", value="v"))
    assert handle(headers, body) == (204, None)


def test_a_tampered_body_is_refused() -> None:
    headers, body = mlflow_delivery(ALIAS_CREATED)
    forged = body.replace(b'"version": "3"', b'"version": "1"')
    assert forged != body
    assert handle(headers, forged) == (401, None)


@pytest.mark.parametrize("header", ["X-MLflow-Delivery-Id", "X-MLflow-Timestamp"])
def test_a_changed_signed_header_is_refused(header: str) -> None:
    headers, body = mlflow_delivery(ALIAS_CREATED)
    changed = dict(headers)
    changed[header] = str(NOW - 1) if header == "X-MLflow-Timestamp" else str(uuid.uuid4())
    assert handle(changed, body) == (401, None)


def test_a_wrong_secret_is_refused() -> None:
    headers, body = mlflow_delivery(ALIAS_CREATED, secret="someone-else")
    assert handle(headers, body) == (401, None)


@pytest.mark.parametrize(
    "missing", ["X-MLflow-Delivery-Id", "X-MLflow-Timestamp", "X-MLflow-Signature"]
)
def test_a_missing_header_is_refused(missing: str) -> None:
    headers, body = mlflow_delivery(ALIAS_CREATED)
    del headers[missing]
    assert handle(headers, body) == (401, None)


@pytest.mark.parametrize(
    ("age", "status"),
    [(300, 200), (301, 401), (-300, 200), (-301, 401), (86_400, 401)],
)
def test_replay_window(age: int, status: int) -> None:
    headers, body = mlflow_delivery(ALIAS_CREATED, ts=NOW - age)
    assert handle(headers, body).status == status


def test_replay_window_is_configurable() -> None:
    headers, body = mlflow_delivery(ALIAS_CREATED, ts=NOW - 30)
    assert handle(headers, body, replay_window_seconds=10).status == 401
    assert handle(headers, body, replay_window_seconds=60).status == 200


def test_a_signed_but_non_numeric_timestamp_is_refused() -> None:
    delivery_id = "d-x"
    body = json.dumps(ALIAS_CREATED).encode()
    headers = {
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": "soon",
        "X-MLflow-Signature": sign(SECRET.encode(), delivery_id, "soon", body),
    }
    assert handle(headers, body) == (401, None)


def test_any_of_several_signatures_may_match() -> None:
    """During a secret rotation a sender may send one signature per secret."""
    headers, body = mlflow_delivery(ALIAS_CREATED)
    headers["X-MLflow-Signature"] = "v1,AAAA " + headers["X-MLflow-Signature"]
    assert handle(headers, body).status == 200


@pytest.mark.parametrize("bad", ["v2,{sig}", "{sig}", "v1,not base64!", "v1,", "v1"])
def test_malformed_signatures_are_refused(bad: str) -> None:
    headers, body = mlflow_delivery(ALIAS_CREATED)
    sig = headers["X-MLflow-Signature"].partition(",")[2]
    headers["X-MLflow-Signature"] = bad.format(sig=sig)
    assert handle(headers, body) == (401, None)


def test_header_names_are_case_insensitive_and_http_messages_work() -> None:
    headers, body = mlflow_delivery(ALIAS_CREATED)
    assert handle({k.lower(): v for k, v in headers.items()}, body).status == 200
    message = email.message.Message()
    for key, value in headers.items():
        message[key] = value
    assert handle_mlflow_webhook(message, body, SECRET.encode(), NOW).status == 200


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        json.dumps({"entity": "model_version_alias"}).encode(),
        json.dumps(
            payload("model_version_alias", "created", alias="production", version="3")
        ).encode(),
        json.dumps(payload("model_version_alias", "created", name="churn", version="3")).encode(),
        json.dumps(
            payload("model_version_alias", "created", name="churn", alias="p", version="x")
        ).encode(),
        json.dumps(payload("model_version", "created", name="churn", version="0")).encode(),
        json.dumps(payload("model_version", "created", name="", version="1")).encode(),
        json.dumps({**ALIAS_CREATED, "data": ["churn"]}).encode(),
    ],
)
def test_a_verified_but_malformed_body_is_a_bad_request(body: bytes) -> None:
    headers = {
        "X-MLflow-Delivery-Id": "d-1",
        "X-MLflow-Timestamp": str(NOW),
        "X-MLflow-Signature": sign(SECRET.encode(), "d-1", str(NOW), body),
    }
    assert handle(headers, body) == (400, None)


def test_an_integer_version_is_accepted() -> None:
    body = payload("model_version_alias", "created", name="churn", alias="p", version=5)
    headers, raw = mlflow_delivery(body)
    outcome = handle(headers, raw)
    assert outcome.event is not None and outcome.event.version == 5


def test_an_oversized_body_is_refused_before_hashing() -> None:
    headers, body = mlflow_delivery(b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}')
    assert handle(headers, body) == (413, None)


def test_an_empty_secret_is_a_programming_error() -> None:
    headers, body = mlflow_delivery(ALIAS_CREATED)
    with pytest.raises(ValueError, match="empty"):
        handle_mlflow_webhook(headers, body, b"", NOW)


def test_refusals_are_logged_without_the_secret_or_signature(
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers, body = mlflow_delivery(ALIAS_CREATED, secret="wrong")
    with caplog.at_level(logging.WARNING, logger="driftwarden.tracking.webhooks"):
        handle(headers, body)
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert record.__dict__["status"] == 401 and record.__dict__["reason"]
    assert SECRET not in caplog.text
    assert headers["X-MLflow-Signature"].partition(",")[2] not in caplog.text


def test_secret_from_env() -> None:
    assert secret_from_env("DW_HOOKS", {"DW_HOOKS": "s"}) == b"s"
    for env in ({}, {"DW_HOOKS": ""}):
        with pytest.raises(ConfigError, match=r"hooks\.secret_env: environment variable DW_HOOKS"):
            secret_from_env("DW_HOOKS", env)


@hsettings(max_examples=examples(60))
@given(
    secret=st.text(min_size=1, max_size=40),
    body=st.binary(min_size=1, max_size=300),
    index=st.integers(min_value=0),
    flip=st.integers(min_value=1, max_value=255),
)
@example(secret="é", body=b"{}", index=0, flip=1)
def test_any_changed_byte_breaks_the_signature(
    secret: str, body: bytes, index: int, flip: int
) -> None:
    body_text = body.decode("latin-1")  # any bytes, as text MLflow could have signed
    raw = body_text.encode()
    headers = {
        "X-MLflow-Delivery-Id": "d",
        "X-MLflow-Timestamp": str(NOW),
        "X-MLflow-Signature": _generate_hmac_signature(secret, "d", str(NOW), body_text),
    }
    ok = handle_mlflow_webhook(headers, raw, secret.encode(), NOW)
    assert ok.status != 401
    position = index % len(raw)
    changed = raw[:position] + bytes([raw[position] ^ flip]) + raw[position + 1 :]
    assert handle_mlflow_webhook(headers, changed, secret.encode(), NOW) == (401, None)
