"""docker-compose.yml, parsed (no Docker engine runs here): mounts exist, pins, wiring."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from driftwarden.config import load_settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def bind_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(host path, container path) of every bind mount, short or long syntax."""
    out = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            host, _, rest = volume.partition(":")
            if host.startswith((".", "/", "~")):
                out.append((host, rest.split(":")[0]))
        elif volume.get("type") == "bind":
            out.append((volume["source"], volume["target"]))
    return out


def test_all_services_present(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= {
        "mlflow",
        "driftwarden",
        "prometheus",
        "alertmanager",
        "grafana",
    }


def test_every_bind_mounted_file_exists_in_the_repository(compose: dict[str, Any]) -> None:
    missing = [
        f"{name}: {host}"
        for name, service in compose["services"].items()
        for host, _ in bind_mounts(service)
        if not (COMPOSE.parent / host).exists()
    ]
    assert missing == [], f"bind mounts without a file in the repository: {missing}"


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            if isinstance(volume, str) and not volume.startswith((".", "/", "~")):
                assert volume.split(":")[0] in declared, f"{name}: {volume}"


def test_mlflow_server_is_pinned_to_the_client_version(compose: dict[str, Any]) -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pin = next(d for d in pyproject["project"]["dependencies"] if d.startswith("mlflow=="))
    version = pin.split("==")[1]
    mlflow = compose["services"]["mlflow"]
    assert mlflow["image"] == f"ghcr.io/mlflow/mlflow:v{version}"
    command = mlflow["command"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    volume_targets = {v.split(":")[1] for v in mlflow["volumes"]}
    store = command[command.index("--backend-store-uri") + 1]
    artifacts = command[command.index("--artifacts-destination") + 1]
    assert any(store.removeprefix("sqlite:///").startswith(t) for t in volume_targets), store
    assert artifacts in volume_targets


def test_published_ports_bind_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on all interfaces"


def test_driftwarden_config_points_at_the_compose_services(compose: dict[str, Any]) -> None:
    service = compose["services"]["driftwarden"]
    assert service["build"] == "."
    config_target = service["environment"]["DRIFTWARDEN_CONFIG"]
    host = next(h for h, target in bind_mounts(service) if target == config_target)
    settings = load_settings(COMPOSE.parent / host, env={})
    services = compose["services"]
    tracking = urlsplit(settings.tracking_uri)
    assert tracking.hostname in services
    assert "alertmanager" in settings.alerts.sinks
    assert settings.alerts.alertmanager is not None
    assert urlsplit(settings.alerts.alertmanager.url).hostname in services
    assert settings.metrics.address == "0.0.0.0"
    assert str(settings.metrics.port) in [str(p) for p in service.get("expose", [])]
    # The drops and state directories are volumes.
    targets = {v.split(":")[1] for v in service["volumes"] if isinstance(v, str)}
    assert str(settings.state.directory) in targets
    assert all(str(p) in targets for p in settings.watch.paths)


def mounted(service: dict[str, Any], target: str) -> Path:
    """The repository file bind-mounted at ``target`` in ``service``."""
    hosts = [h for h, t in bind_mounts(service) if t == target]
    assert len(hosts) == 1, f"nothing (or several) mounted at {target}: {hosts}"
    return COMPOSE.parent / hosts[0]


def test_prometheus_uses_the_shipped_rules_and_compose_addresses(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    services = compose["services"]
    prometheus = services["prometheus"]
    assert (
        mounted(prometheus, "/etc/prometheus/alerts.yml") == REPO / "config/prometheus/alerts.yml"
    )
    config_path = mounted(prometheus, "/etc/prometheus/prometheus.yml")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    assert config["rule_files"] == ["alerts.yml"]
    # Same job names as the shipped config, since the rules match on them.
    shipped = yaml.safe_load((REPO / "config/prometheus/prometheus.yml").read_text("utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {job["job_name"] for job in shipped["scrape_configs"]}
    targets = [t for sc in jobs["driftwarden"]["static_configs"] for t in sc["targets"]]
    assert targets == ["driftwarden:9108"]
    managers = [
        t
        for am in config["alerting"]["alertmanagers"]
        for sc in am["static_configs"]
        for t in sc["targets"]
    ]
    assert all(t.split(":")[0] in services for t in managers)
    assert mounted(services["alertmanager"], "/etc/alertmanager/alertmanager.yml") == (
        REPO / "config/prometheus/alertmanager.yml"
    )


def test_compose_prometheus_config_passes_promtool(compose: dict[str, Any], tmp_path: Path) -> None:
    from tests.support.prom_tools import require_tool

    promtool = require_tool("promtool")
    prometheus = compose["services"]["prometheus"]
    for target in ("/etc/prometheus/prometheus.yml", "/etc/prometheus/alerts.yml"):
        source = mounted(prometheus, target)
        (tmp_path / Path(target).name).write_bytes(source.read_bytes())
    proc = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_grafana_provisions_the_shipped_dashboard(compose: dict[str, Any]) -> None:
    services = compose["services"]
    grafana = services["grafana"]
    provider_path = "/etc/grafana/provisioning/dashboards/driftwarden.yml"
    provider_file = mounted(grafana, provider_path)
    assert provider_file == REPO / "config/grafana/provisioning/dashboards/driftwarden.yml"
    provider = yaml.safe_load(provider_file.read_text(encoding="utf-8"))
    folder = provider["providers"][0]["options"]["path"]
    dashboards = [h for h, t in bind_mounts(grafana) if t.startswith(folder.rstrip("/") + "/")]
    assert [COMPOSE.parent / h for h in dashboards] == [REPO / "config/grafana/dashboard.json"]
    datasource_file = mounted(grafana, "/etc/grafana/provisioning/datasources/prometheus.yml")
    datasource = yaml.safe_load(datasource_file.read_text(encoding="utf-8"))["datasources"][0]
    assert urlsplit(datasource["url"]).hostname in services
    shipped = yaml.safe_load(
        (REPO / "config/grafana/provisioning/datasources/prometheus.yml").read_text("utf-8")
    )["datasources"][0]
    assert datasource["uid"] == shipped["uid"]
    assert datasource["type"] == shipped["type"]
