"""The Dockerfile, read as text (no Docker engine runs here): the lines that matter.

The install step's shell is also run for real with a stand-in ``pip`` on PATH that records
its arguments, to show that torch is installed only when the build argument asks for it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from driftwarden.config import load_settings

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def args_of(keyword: str) -> list[str]:
    return [a for k, a in instructions() if k == keyword]


def env_values() -> dict[str, str]:
    values: dict[str, str] = {}
    for args in args_of("ENV"):
        for name, value in re.findall(r"(\w+)=(\S+)", args):
            values[name] = value
    return values


def test_slim_python_base() -> None:
    assert args_of("FROM") == ["python:3.11-slim"]


def test_runs_as_a_non_root_user() -> None:
    users = args_of("USER")
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # USER comes after the last RUN, so nothing at run time happens as root.
    kinds = [k for k, _ in instructions()]
    assert max(i for i, k in enumerate(kinds) if k == "RUN") < kinds.index("USER")


def test_state_is_a_volume_matching_the_container_config() -> None:
    volumes = args_of("VOLUME")
    assert volumes
    declared = json.loads(volumes[0])
    config_path = env_values()["DRIFTWARDEN_CONFIG"]
    copies = [a.split() for a in args_of("COPY")]
    sources = [src for src, dst in (c[-2:] for c in copies) if dst == config_path]
    assert sources, f"no COPY puts a config at {config_path}"
    settings = load_settings(REPO / sources[0], env={})
    assert str(settings.state.directory) in declared


def test_container_config_listens_on_all_interfaces_on_the_exposed_port() -> None:
    config_path = env_values()["DRIFTWARDEN_CONFIG"]
    src = next(c.split()[0] for c in args_of("COPY") if c.split()[-1] == config_path)
    settings = load_settings(REPO / src, env={})
    # Loopback inside a container is unreachable from the outside.
    assert settings.metrics.address == "0.0.0.0"
    assert args_of("EXPOSE") == [str(settings.metrics.port)]
    healthcheck = args_of("HEALTHCHECK")
    assert len(healthcheck) == 1
    assert f"http://127.0.0.1:{settings.metrics.port}/healthz" in healthcheck[0]
    assert "curl" not in healthcheck[0]


def test_entrypoint_and_command() -> None:
    assert args_of("ENTRYPOINT") == ['["driftwarden"]']
    assert args_of("CMD") == ['["run"]']
    assert "DRIFTWARDEN_CONFIG" in env_values()


def test_torch_is_off_by_default() -> None:
    assert "WITH_TORCH=false" in args_of("ARG")


def install_step() -> str:
    steps = [a for a in args_of("RUN") if "pip install" in a]
    assert len(steps) == 1, steps
    return steps[0]


@pytest.mark.parametrize(("with_torch", "expect_torch"), [("false", False), ("true", True)])
def test_install_step_adds_torch_only_when_asked(
    tmp_path: Path, with_torch: str, expect_torch: bool
) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    log = tmp_path / "pip.log"
    pip = fake_bin / "pip"
    pip.write_text(f'#!/bin/sh\necho "$@" >> {log}\n', encoding="utf-8")
    pip.chmod(0o755)
    work = tmp_path / "work"
    (work / "src").mkdir(parents=True)
    env = {
        "PATH": f"{fake_bin}:{os.environ['PATH']}",
        "WITH_TORCH": with_torch,
        "TORCH_INDEX_URL": "https://download.pytorch.org/whl/cpu",
    }
    proc = subprocess.run(
        ["sh", "-ec", install_step()], cwd=work, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text(encoding="utf-8").splitlines()
    assert len(calls) == 1
    assert (".[torch]" in calls[0]) is expect_torch
    if not expect_torch:
        assert "torch" not in calls[0]
    assert not (work / "src").exists(), "the build copy of src/ is left in the image"


def test_dockerignore_keeps_what_the_build_copies() -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for args in args_of("COPY"):
        for src in args.split()[:-1]:
            top = src.split("/")[0]
            assert top not in ignored, f"COPY {src} but .dockerignore drops {top}"
            assert (REPO / src).exists(), f"COPY {src}: not in the repository"
