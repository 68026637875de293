"""The test helpers that find promtool/prometheus/alertmanager: PATH first, then .tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import prom_tools


def make_exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_path_wins_over_the_unpacked_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = make_exe(tmp_path / "bin" / "promtool")
    make_exe(tmp_path / "tools" / "promtool")
    monkeypatch.setenv("PATH", str(on_path.parent))
    monkeypatch.setattr(prom_tools, "TOOLS_BIN", tmp_path / "tools")
    assert prom_tools.find_tool("promtool") == str(on_path)


def test_unpacked_tools_are_the_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = make_exe(tmp_path / "tools" / "prometheus-alertmanager")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(prom_tools, "TOOLS_BIN", tmp_path / "tools")
    assert prom_tools.find_tool("alertmanager") == str(local)
    assert prom_tools.find_tool("promtool") is None


def test_missing_tool_skips_locally_and_fails_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(prom_tools, "TOOLS_BIN", tmp_path)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        prom_tools.require_tool("promtool")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="promtool not found"):
        prom_tools.require_tool("promtool")
