"""The redactor hides every secret it knows and every URL credential; control characters are
escaped so that no text adds a line or reaches the terminal as a command."""

from __future__ import annotations

import string
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from driftwarden.config import load_settings
from driftwarden.redact import (
    MASK,
    Redactor,
    basic_auth_value,
    escape_controls,
    printable_lines,
    redact,
)
from tests.support.hypothesis_profiles import examples

# Secrets as a user would pick them: no '*', so a mask can never spell one.
SECRET_CHARS = string.ascii_letters + string.digits + "!$%&()+,-./:;<=>?@[]^_{|}~#'\""


def test_a_registered_secret_is_hidden_in_every_form() -> None:
    redactor = Redactor()
    redactor.add_secret("p@ss word/1")
    text = "raw p@ss word/1, encoded p%40ss%20word%2F1"
    assert redactor.redact(text) == f"raw {MASK}, encoded {MASK}"


def test_short_secrets_are_not_searched_as_text_but_still_hidden_in_urls() -> None:
    redactor = Redactor()
    redactor.add_secret("abc")
    assert redactor.redact("abcdef") == "abcdef"
    assert redactor.redact("http://u:abc@h/x") == f"http://u:{MASK}@h/x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # user info of any scheme, wherever the URL sits in the text
        (
            "to http://alice:pw1@127.0.0.1:5000/api failed",
            "to http://alice:***@127.0.0.1:5000/api failed",
        ),
        ("url='postgresql://u:p:w@db/x'", "url='postgresql://u:***@db/x'"),
        ("git+https://tok:x-oauth@github.com/o/r.git", "git+https://tok:***@github.com/o/r.git"),
        # credential query parameters, not others
        ("GET /hook?token=abc&x=1", "GET /hook?token=***&x=1"),
        ("?experiment_name=a&api_key=k1#f", "?experiment_name=a&api_key=***#f"),
        ("X-Amz-Signature: ?X-Amz-Signature=deadbeef", "X-Amz-Signature: ?X-Amz-Signature=***"),
        # nothing to hide: unchanged
        (
            "http://127.0.0.1:5000/api/2.0/x?experiment_name=d",
            "http://127.0.0.1:5000/api/2.0/x?experiment_name=d",
        ),
        ("ssh://git@github.com/o/r", "ssh://git@github.com/o/r"),
        ("host:8080 and a@b", "host:8080 and a@b"),
    ],
)
def test_url_credentials_are_hidden_without_being_registered(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


def test_a_registered_url_shows_as_redact_url_shows_it_and_its_parts_are_hidden_alone() -> None:
    redactor = Redactor()
    url = "https://hooks.example.com/services/T0/B0/PathSecret?token=QuerySecret"
    redactor.add_url(url, hide_path=True)
    assert (
        redactor.redact(f"POST {url} failed")
        == f"POST https://hooks.example.com/{MASK}?{MASK} failed"
    )
    assert "PathSecret" not in redactor.redact("retrying /services/T0/B0/PathSecret")
    assert "QuerySecret" not in redactor.redact("the token is QuerySecret")


def test_a_registered_url_leaves_ordinary_words_alone() -> None:
    """The path's last segment or a query value alone is no secret: 'hook' must not turn
    every 'webhook' into 'web***' (a daemon test caught exactly that)."""
    redactor = Redactor()
    redactor.add_url("http://127.0.0.1:8080/hook?verbose=true&apikey=ApiKey-5d", hide_path=True)
    assert redactor.redact("sink=webhook verbose=true") == "sink=webhook verbose=true"
    assert redactor.redact("POST /hook failed, apikey ApiKey-5d") == (
        f"POST /{MASK} failed, apikey {MASK}"
    )


def test_settings_register_every_secret_they_point_at(tmp_path: Path) -> None:
    config = tmp_path / "dw.toml"
    config.write_text(
        """
[alerts]
sinks = ["log", "webhook", "alertmanager"]
[alerts.webhook]
url = "https://hooks.example.com/services/HookPath77?token=HookQuery77"
secret_env = "DW_T_HOOK"
[alerts.alertmanager]
url = "http://127.0.0.1:9093"
username = "dw"
password_env = "DW_T_AM"
[retrain]
project_uri = "https://ci:GitToken77@github.com/o/r.git#train"
""",
        encoding="utf-8",
    )
    env = {
        "MLFLOW_TRACKING_URI": "https://u:UriPass77@mlflow.example.com",
        "MLFLOW_TRACKING_PASSWORD": "EnvPass77",
        "MLFLOW_TRACKING_TOKEN": "EnvToken77",
        "DW_T_HOOK": "SignSecret77",
        "DW_T_AM": "AmPass77",
    }
    load_settings(config, env=env)
    secrets = [
        "/services/HookPath77",
        "HookQuery77",
        "GitToken77",
        "UriPass77",
        "EnvPass77",
        "EnvToken77",
        "SignSecret77",
        "AmPass77",
        basic_auth_value("dw", "AmPass77"),
    ]
    shown = redact(" | ".join(secrets))
    assert not [s for s in secrets if s in shown], shown
    # A git URI's '#subdir' is not a secret: only the password is hidden.
    assert redact("cloning https://github.com/o/r.git#train") == (
        "cloning https://github.com/o/r.git#train"
    )


@hsettings(max_examples=examples(200))
@given(
    secret=st.text(SECRET_CHARS, min_size=4, max_size=24),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
@example(secret="ab%2", before="", after="")
@example(secret="a" * 4, before="a", after="a")
def test_a_registered_secret_never_survives_redaction(secret: str, before: str, after: str) -> None:
    redactor = Redactor()
    redactor.add_secret(secret)
    assert secret not in redactor.redact(before + secret + after)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a\nb", "a\\nb"),
        ("a\r\nb\tc", "a\\r\\nb\\tc"),
        ("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07"),
        ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
        ("line\u2028sep\u2029", "line\\u2028sep\\u2029"),
        ("rtl\u202eevil\u2066", "rtl\\u202eevil\\u2066"),
        ("bad byte \udcff", "bad byte \\udcff"),  # a name that was not UTF-8 (surrogateescape)
        ("ünïcødé, spaces and \\ stay", "ünïcødé, spaces and \\ stay"),
    ],
)
def test_control_characters_are_escaped(text: str, escaped: str) -> None:
    assert escape_controls(text) == escaped


@hsettings(max_examples=examples(300))
@given(st.text())
def test_escaped_text_is_one_printable_line_that_encodes(text: str) -> None:
    escaped = escape_controls(text)
    assert len(escaped.splitlines()) <= 1
    for ch in escaped:  # no control, surrogate, line separator or bidi override is left
        assert unicodedata.category(ch) not in ("Cc", "Cs", "Zl", "Zp"), repr(ch)
        assert unicodedata.bidirectional(ch) not in ("LRE", "RLE", "LRO", "RLO", "PDF"), repr(ch)
        assert unicodedata.bidirectional(ch) not in ("LRI", "RLI", "FSI", "PDI"), repr(ch)
    escaped.encode("utf-8")  # no lone surrogate left to break a strict stream
    if text.isprintable():
        assert escaped == text


def test_printable_lines_keep_the_given_lines_only() -> None:
    assert printable_lines(["first", "second\nforged\x1b[2J"]) == "first\nsecond\\nforged\\x1b[2J"
