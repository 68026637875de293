"""The template unit driftwarden@.service: one config and one state directory per instance,
the same hardening as driftwarden.service, and clean `systemd-analyze verify` / `security`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.shipping.test_systemd_unit import (
    MAX_EXPOSURE,
    SYSTEMD_DIR,
    UNIT,
    directives,
    exposure,
    require_systemd_analyze,
)

TEMPLATE = SYSTEMD_DIR / "driftwarden@.service"
# What may differ between the template and the single unit: the rest is the same hardening.
PER_INSTANCE = {
    "Description",
    "ExecStart",
    "EnvironmentFile",
    "StateDirectory",
    "WorkingDirectory",
    "SyslogIdentifier",
}


def values(path: Path, key: str, section: str = "Service") -> list[str]:
    return [v for s, k, v in directives(path) if s == section and k == key]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ExecStart", ["/usr/local/bin/driftwarden run --config /etc/driftwarden/%i.toml"]),
        ("StateDirectory", ["driftwarden/%i"]),
        ("WorkingDirectory", ["/var/lib/driftwarden/%i"]),
        # Shared secrets first, then the instance's own (later files win).
        (
            "EnvironmentFile",
            ["-/etc/driftwarden/driftwarden.env", "-/etc/driftwarden/%i.env"],
        ),
        ("Type", ["notify"]),
        ("WatchdogSec", values(UNIT, "WatchdogSec")),
    ],
)
def test_template_selects_config_and_state_by_instance(key: str, expected: list[str]) -> None:
    assert values(TEMPLATE, key) == expected


def test_template_has_the_same_hardening_as_the_single_unit() -> None:
    def shared(path: Path) -> list[tuple[str, str, str]]:
        return [d for d in directives(path) if d[1] not in PER_INSTANCE]

    assert shared(TEMPLATE) == shared(UNIT)


def test_no_comment_after_a_value() -> None:
    assert [d for d in directives(TEMPLATE) if "#" in d[2]] == []


def instance_copy(tmp_path: Path, instance: str = "alpha") -> Path:
    """An instance of the template (driftwarden@alpha.service) with ExecStart on this venv.

    `systemd-analyze verify` needs an existing binary (see test_systemd_unit.installed_copy)
    and checks a template through one of its instances.
    """
    binary = Path(sys.executable).parent / "driftwarden"
    text = TEMPLATE.read_text(encoding="utf-8")
    shipped = "ExecStart=/usr/local/bin/driftwarden "
    assert shipped in text
    copy = tmp_path / f"driftwarden@{instance}.service"
    copy.write_text(text.replace(shipped, f"ExecStart={binary} "), encoding="utf-8")
    return copy


def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    require_systemd_analyze(240)
    unit = instance_copy(tmp_path)
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    # verify reports a bad directive as a warning with exit 0: no line may name our unit.
    assert [line for line in output.splitlines() if "driftwarden@" in line] == []


def test_verify_would_notice_a_bad_directive(tmp_path: Path) -> None:
    """The check above can fail: the same call on a broken copy names the unit."""
    require_systemd_analyze(240)
    unit = instance_copy(tmp_path)
    unit.write_text(unit.read_text().replace("Type=notify", "Type=bogus"), encoding="utf-8")
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert any("driftwarden@alpha" in line for line in (proc.stdout + proc.stderr).splitlines())


def test_security_exposure_is_at_most_two(tmp_path: Path) -> None:
    require_systemd_analyze(252)
    unit = instance_copy(tmp_path)
    proc = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert exposure(proc.stdout + proc.stderr) <= MAX_EXPOSURE, proc.stdout
