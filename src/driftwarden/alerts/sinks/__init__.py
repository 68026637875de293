"""Alert sinks chosen by name in ``[alerts] sinks``, and the dispatcher that feeds them."""

from __future__ import annotations

from collections.abc import Callable

from driftwarden.alerts.sinks.alertmanager import AlertmanagerSink
from driftwarden.alerts.sinks.base import Sink, SinkError
from driftwarden.alerts.sinks.dispatcher import AlertDispatcher, SinkStats
from driftwarden.alerts.sinks.log import LogSink
from driftwarden.alerts.sinks.webhook import SIGNATURE_HEADER, WebhookSink, sign
from driftwarden.config.model import AlertsConfig
from driftwarden.errors import ConfigError

__all__ = [
    "SIGNATURE_HEADER",
    "SINKS",
    "AlertDispatcher",
    "AlertmanagerSink",
    "LogSink",
    "Sink",
    "SinkError",
    "SinkStats",
    "WebhookSink",
    "build_sinks",
    "sign",
]


def _log(cfg: AlertsConfig, generator_url: str | None) -> Sink:
    return LogSink()


def _webhook(cfg: AlertsConfig, generator_url: str | None) -> Sink:
    if cfg.webhook is None:
        raise ConfigError(
            "alerts.webhook: sink 'webhook' is listed but [alerts.webhook] is missing"
        )
    return WebhookSink(cfg.webhook)


def _alertmanager(cfg: AlertsConfig, generator_url: str | None) -> Sink:
    if cfg.alertmanager is None:
        raise ConfigError(
            "alerts.alertmanager: sink 'alertmanager' is listed but [alerts.alertmanager] is missing"
        )
    return AlertmanagerSink(cfg.alertmanager, cfg.repeat_interval_seconds, generator_url)


# sink name in [alerts] sinks -> factory.
SINKS: dict[str, Callable[[AlertsConfig, str | None], Sink]] = {
    "log": _log,
    "webhook": _webhook,
    "alertmanager": _alertmanager,
}


def build_sinks(cfg: AlertsConfig, generator_url: str | None = None) -> list[Sink]:
    """The sinks named in ``cfg.sinks``, in order, each once.

    Args:
        cfg: the ``[alerts]`` section.
        generator_url: link shown in Alertmanager (e.g. the daemon's ``/metrics`` URL).

    Raises:
        ConfigError: an unknown sink name (listing the valid ones), a missing section, or a
            webhook ``secret_env`` that is not set.
    """
    sinks: list[Sink] = []
    for name in dict.fromkeys(cfg.sinks):
        factory = SINKS.get(name)
        if factory is None:
            raise ConfigError(f"alerts.sinks: unknown sink {name!r}; valid: {sorted(SINKS)}")
        sinks.append(factory(cfg, generator_url))
    return sinks
