"""Text that is safe to show: secrets hidden, control characters escaped.

Secrets are hidden at one place. The process-wide :data:`REDACTOR` learns this process's
secrets when the config is loaded (:func:`register_settings`: MLflow's password and token,
the password in a URL's user info, the webhook's URL and signing secret, Alertmanager's
password) and from the environment (:func:`register_environment`); everything shown or
stored passes through :func:`redact`: every log record (a filter on the handler that
``logs.setup_logging`` installs), the error ``cli.main`` prints and the error the outbox
stores. On top of the known secrets it hides any ``scheme://user:password@`` and the value
of any query parameter whose name says it is a credential (``?token=``, ``&api_key=``),
so a secret it was never told about is still caught in a URL.

Control characters are escaped by :func:`escape_controls` wherever text goes to a terminal
or a line-oriented log: a newline in a dropped file's name must not forge a log line, and
an ESC sequence must not drive the operator's terminal.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

if TYPE_CHECKING:
    from driftwarden.config.model import Settings

MASK = "***"
# Shorter secrets are not searched for as plain text (they would blank out ordinary words);
# in a URL's user info or a credential query parameter they are still hidden.
MIN_SECRET_CHARS = 4
# Environment variables that hold credentials for MLflow or its artifact stores.
SECRET_ENV_VARS = (
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
    "PGPASSWORD",  # libpq's: the shared state database (state.url)
)
URL_ENV_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")

# scheme://user:password@ -> scheme://user:***@ (the password may hold ':' but not '/' or '@').
_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:'\"]*):[^\s/@'\"]+@")
# ?token=... &api_key=... -> ?token=*** (any parameter whose name names a credential).
_CREDENTIAL_WORDS = r"(?:token|secret|passw|pwd|key|sig|auth|credential|session)"
_CREDENTIAL_NAME = re.compile(_CREDENTIAL_WORDS, re.IGNORECASE)
_CREDENTIAL_PARAM = re.compile(
    rf"(?P<head>[?&;][A-Za-z0-9_.\-]*{_CREDENTIAL_WORDS}[A-Za-z0-9_.\-]*=)[^&#\s'\"]+",
    re.IGNORECASE,
)


def redact_url(url: str, hide_path: bool = False) -> str:
    """``url`` with secrets replaced by ``***``: the user-info password, the query string
    (``?token=...``) and fragment, and with ``hide_path`` the path (``scheme://host/***``).

    Edited as text, not re-joined by ``urlunsplit``, which rewrites ``sqlite:////x`` as
    ``sqlite://x``.
    """
    parts = urlsplit(url)
    base = url.partition("#")[0].partition("?")[0]
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username}:{MASK}@{netloc.rpartition('@')[2]}"
        base = base.replace(f"//{parts.netloc}", f"//{netloc}", 1)
    if hide_path and parts.path not in ("", "/"):
        base = f"{parts.scheme}://{netloc}/{MASK}"
    return base + (f"?{MASK}" if parts.query else "") + (f"#{MASK}" if parts.fragment else "")


class Redactor:
    """Replaces registered secrets (and their URL-encoded forms) and URL credentials.

    Registration only ever adds: a secret that was valid before a reload is still hidden
    after it. Safe to call from any thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replacements: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    def add_secret(self, value: str | None) -> None:
        """Hide ``value`` (and its percent-encoded and decoded forms) wherever it appears."""
        if not value:
            return
        forms = {value, quote(value, safe=""), unquote(value)}
        self._add({form: MASK for form in forms if len(form) >= MIN_SECRET_CHARS})

    def add_url(self, url: str | None, hide_path: bool = False) -> None:
        """Hide the secrets in ``url``: the whole URL is shown as :func:`redact_url` shows it;
        its password, query string, fragment (and with ``hide_path`` its path), and the value
        of a query parameter named like a credential, are hidden wherever else they appear
        (urllib3, for one, logs a request's path and query without the host)."""
        if not url:
            return
        try:
            parts = urlsplit(url)
            password = parts.password
        except ValueError:  # not a URL after all (a bad port): hide it whole
            self.add_secret(url)
            return
        shown = redact_url(url, hide_path)
        if shown != url:
            self._add({url: shown})
        self.add_secret(password)
        for piece in (parts.query, parts.fragment):
            self.add_secret(piece)
        for name, _, value in (pair.partition("=") for pair in parts.query.split("&")):
            if _CREDENTIAL_NAME.search(name):
                self.add_secret(value)
        if hide_path and len(parts.path) >= MIN_SECRET_CHARS:
            self._add({parts.path: "/" + MASK})

    def redact(self, text: str) -> str:
        """``text`` with every known secret and every URL credential replaced by ``***``."""
        pattern = self._pattern
        if pattern is not None:
            replacements = self._replacements
            text = pattern.sub(lambda m: replacements[m.group(0)], text)
        text = _USERINFO.sub(rf"\g<head>:{MASK}@", text)
        return _CREDENTIAL_PARAM.sub(rf"\g<head>{MASK}", text)

    def _add(self, replacements: Mapping[str, str]) -> None:
        with self._lock:
            fresh = {k: v for k, v in replacements.items() if k and k not in self._replacements}
            if not fresh:
                return
            merged = {**self._replacements, **fresh}
            # Longest first, so a whole URL wins over the password inside it.
            needles = sorted(merged, key=len, reverse=True)
            pattern = re.compile("|".join(re.escape(n) for n in needles))
            self._replacements, self._pattern = merged, pattern


REDACTOR = Redactor()


def redact(text: str) -> str:
    """``text`` with this process's secrets hidden (see :class:`Redactor`)."""
    return REDACTOR.redact(text)


def register_environment(env: Mapping[str, str]) -> None:
    """Learn the credentials MLflow and its artifact stores read from the environment."""
    for var in SECRET_ENV_VARS:
        REDACTOR.add_secret(env.get(var))
    for var in URL_ENV_VARS:
        REDACTOR.add_url(env.get(var))


def register_settings(settings: Settings, env: Mapping[str, str]) -> None:
    """Learn every secret a loaded config points at (values from ``env`` where it names them)."""
    mlflow = settings.mlflow
    for secret in (mlflow.password, mlflow.token):
        REDACTOR.add_secret(secret.get_secret_value() if secret is not None else None)
    for url in (mlflow.tracking_uri, mlflow.registry_uri):
        REDACTOR.add_url(url)
    for model in settings.kept_models().values():  # [models.<name>.retrain] may name its own
        REDACTOR.add_secret(_password(model.retrain.project_uri))  # its '#subdir' is no secret
    if settings.hooks.enabled:
        REDACTOR.add_secret(env.get(settings.hooks.secret_env))  # the MLflow webhooks' HMAC key
    REDACTOR.add_url(settings.state.url)
    if settings.state.password_env:
        REDACTOR.add_secret(env.get(settings.state.password_env))
    webhook = settings.alerts.webhook
    if webhook is not None:
        # The URL is itself the credential (Slack's /services/T0/B0/SECRET): hide its path.
        REDACTOR.add_url(webhook.url, hide_path=True)
        if webhook.secret_env:
            REDACTOR.add_secret(env.get(webhook.secret_env))
    alertmanager = settings.alerts.alertmanager
    if alertmanager is not None:
        REDACTOR.add_url(alertmanager.url)
        if alertmanager.password_env:
            password = env.get(alertmanager.password_env)
            REDACTOR.add_secret(password)
            if password:
                REDACTOR.add_secret(basic_auth_value(alertmanager.username or "", password))


def _password(url: str | None) -> str | None:
    try:
        return urlsplit(url).password if url else None
    except ValueError:
        return None


def basic_auth_value(username: str, password: str) -> str:
    """The credentials part of an ``Authorization: Basic`` header."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


# C0 and C1 controls, DEL, Unicode line/paragraph separators, bidirectional overrides and
# lone surrogates (undecodable bytes of a file name, which would not even encode as UTF-8).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape_controls(text: str) -> str:
    """``text`` on one line with control characters written as ``\\n``, ``\\x1b``, ``\\u2028``."""
    return _CONTROL.sub(_escape, text)


def printable_lines(lines: Iterable[str]) -> str:
    """Lines joined by newlines, each redacted and escaped (so none can add a line)."""
    return "\n".join(escape_controls(redact(line)) for line in lines)
