"""The shipped systemd unit: required directives, `systemd-analyze verify` and `security` checks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEMD_DIR = REPO / "systemd"
UNIT = SYSTEMD_DIR / "driftwarden.service"
MAX_EXPOSURE = 2.0


def systemd_version() -> int | None:
    """The major version of the installed systemd-analyze, or None when it is missing."""
    if shutil.which("systemd-analyze") is None:
        return None
    out = subprocess.run(
        ["systemd-analyze", "--version"], capture_output=True, text=True, timeout=30
    ).stdout
    match = re.match(r"systemd (\d+)", out)
    return int(match.group(1)) if match else None


def require_systemd_analyze(minimum: int) -> None:
    """Skip when systemd-analyze is missing or too old (--offline needs 252); fail under CI."""
    version = systemd_version()
    if version is None or version < minimum:
        message = f"needs systemd-analyze >= {minimum}, found {version}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def directives(path: Path) -> list[tuple[str, str, str]]:
    """(section, key, value) for every assignment, in order (systemd allows repeated keys)."""
    section = ""
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not an assignment: {raw!r}"
        out.append((section, key.strip(), value.strip()))
    return out


def service_values(key: str) -> list[str]:
    return [v for s, k, v in directives(UNIT) if s == "Service" and k == key]


def single(key: str) -> str:
    values = service_values(key)
    assert len(values) == 1, f"[Service] {key}= set {len(values)} times: {values}"
    return values[0]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("ExecStart", "/usr/local/bin/driftwarden run --config /etc/driftwarden/driftwarden.toml"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("Restart", "on-failure"),
        ("StateDirectory", "driftwarden"),
        ("User", "driftwarden"),
        ("EnvironmentFile", "-/etc/driftwarden/driftwarden.env"),
        ("TimeoutStopSec", "15"),
        ("KillMode", "mixed"),
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
    ],
)
def test_unit_sets_required_directive(key: str, expected: str) -> None:
    assert single(key) == expected


def test_watchdog_is_set_and_within_reason() -> None:
    seconds = int(single("WatchdogSec"))
    assert 10 <= seconds <= 300


def test_no_dynamic_user_with_static_user() -> None:
    # The drop directories need a stable owner; DynamicUser would fight User=driftwarden.
    assert service_values("DynamicUser") in ([], ["no"])


def test_no_comment_after_a_value() -> None:
    # systemd keeps a '#' after a value as part of the value (STYLE.md, known traps).
    offenders = [(s, k, v) for s, k, v in directives(UNIT) if "#" in v]
    assert offenders == []


def test_user_and_drop_directories_match_sysusers_and_tmpfiles() -> None:
    sysusers = (SYSTEMD_DIR / "driftwarden.sysusers.conf").read_text(encoding="utf-8")
    assert re.search(r"^u driftwarden\s", sysusers, re.M)
    tmpfiles = (SYSTEMD_DIR / "driftwarden.tmpfiles.conf").read_text(encoding="utf-8")
    drops = [line.split()[1] for line in tmpfiles.splitlines() if line.startswith("d ")]
    writable = [p.lstrip("-") for p in service_values("ReadWritePaths")]
    assert drops, "tmpfiles.conf creates no drop directory"
    for path in drops:
        assert any(path == w or path.startswith(w + "/") for w in writable), (
            f"{path} is created by tmpfiles.conf but not writable under ProtectSystem=strict"
        )


def installed_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this venv's real driftwarden binary.

    `systemd-analyze verify` fails when ExecStart's binary does not exist, and the shipped
    path (/usr/local/bin/driftwarden) exists only on an installed host. Everything else
    is checked exactly as shipped.
    """
    binary = Path(sys.executable).parent / "driftwarden"
    assert binary.exists(), f"console script missing: {binary}"
    text = UNIT.read_text(encoding="utf-8")
    shipped = "ExecStart=/usr/local/bin/driftwarden "
    assert shipped in text
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace(shipped, f"ExecStart={binary} "), encoding="utf-8")
    return copy


def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    require_systemd_analyze(240)
    unit = installed_copy(tmp_path)
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    # verify may also mention unrelated units of the host; ours must not be among them.
    assert [line for line in output.splitlines() if UNIT.name in line] == []


def exposure(output: str) -> float:
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", output)
    assert match, f"no exposure level in:\n{output}"
    return float(match.group(1))


def test_exposure_parser_reads_the_number() -> None:
    sample = "→ Overall exposure level for driftwarden.service: 9.2 UNSAFE 😨"
    assert exposure(sample) == 9.2


def test_security_exposure_is_at_most_two(tmp_path: Path) -> None:
    require_systemd_analyze(252)
    proc = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    score = exposure(proc.stdout + proc.stderr)
    assert score <= MAX_EXPOSURE, proc.stdout


def test_sysusers_and_tmpfiles_create_the_user_and_drop_directories(tmp_path: Path) -> None:
    """Run the real systemd-sysusers and systemd-tmpfiles against a scratch root directory."""
    require_systemd_analyze(240)
    if os.geteuid() != 0:
        pytest.skip("systemd-tmpfiles needs root to give the directories their owner")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    for tool, conf in (
        ("systemd-sysusers", "driftwarden.sysusers.conf"),
        ("systemd-tmpfiles", "driftwarden.tmpfiles.conf"),
    ):
        argv = [tool, f"--root={root}"]
        argv += ["--create"] if tool == "systemd-tmpfiles" else []
        proc = subprocess.run(
            [*argv, str(SYSTEMD_DIR / conf)], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
    passwd = (root / "etc" / "passwd").read_text(encoding="utf-8")
    entry = next(line for line in passwd.splitlines() if line.startswith("driftwarden:"))
    _, _, uid, gid, _, home, shell = entry.split(":")
    assert home == "/var/lib/driftwarden"
    assert shell == "/usr/sbin/nologin"
    expected_modes = {
        "srv/driftwarden/drops": 0o2770,
        "srv/driftwarden/drops/processed": 0o2750,
        "srv/driftwarden/drops/quarantine": 0o2750,
    }
    for relative, mode in expected_modes.items():
        info = (root / relative).stat()
        assert (info.st_mode & 0o7777, info.st_uid, info.st_gid) == (mode, int(uid), int(gid))
