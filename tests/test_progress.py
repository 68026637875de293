"""The progress line: ticking on a terminal (a real pseudo-terminal), absent everywhere else.

Each case runs a small script in a subprocess whose stderr is either the slave side of
``os.openpty()`` (so ``isatty()`` is true, as for a person at a terminal) or a pipe.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from driftwarden.progress import CLEAR, progress, with_progress

# Waits (without sleeping on luck) until the ticker has redrawn a few times, logs a line
# in the middle, and writes "after" once the block is over.
SCRIPT = """
import logging, sys, time
from driftwarden.logs import setup_logging
from driftwarden.progress import progress
setup_logging("INFO", {fmt!r})
with progress("loading the model", interval=0.02) as ticker:
    deadline = time.monotonic() + 60
    def wait_for(n):
        while ticker is not None and ticker.draws < n and time.monotonic() < deadline:
            time.sleep(0.005)
    wait_for(3)
    logging.getLogger("driftwarden.test").info("a log line")
    wait_for(6)
sys.stderr.write("after\\n")
sys.stderr.write(f"shown={{ticker is not None}}\\n")
"""


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, COLUMNS="200")
    env.pop("TERM", None)
    env.update(extra)
    return env


def on_terminal(script: str, env: dict[str, str], cwd: Path | None = None) -> tuple[int, str]:
    """Run ``script`` with stderr on a pseudo-terminal; (exit code, what it wrote there)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env=env,
        cwd=cwd,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    code = proc.wait(timeout=30)
    return code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def run_with_stderr(script: str, tty: bool, env: dict[str, str] | None = None) -> str:
    """Run ``script``; returns what it wrote on stderr (a terminal or a pipe)."""
    env = env or _env()
    if tty:
        code, out = on_terminal(script, env)
        assert code == 0, out
        return out
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def test_on_a_terminal_the_line_ticks_and_is_erased() -> None:
    out = run_with_stderr(SCRIPT.format(fmt="text"), tty=True)
    assert "shown=True" in out
    drawn = re.findall(r"\r\x1b\[K[-\\|/] loading the model \.\.\. \d+ s", out)
    assert len(drawn) >= 6, repr(out)
    assert len({d[4] for d in drawn}) > 1  # the spinner turns
    # the log line starts on a cleared line, whole
    assert re.search(
        re.escape(CLEAR) + r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO driftwarden\.test: a log line\n",
        out,
    ), repr(out)
    # the last thing before "after" is the erase: nothing of the line is left on screen
    assert out.split("after\n")[0].endswith(CLEAR)


def test_not_a_terminal_nothing_is_written() -> None:
    out = run_with_stderr(SCRIPT.format(fmt="text"), tty=False)
    assert "shown=False" in out
    assert "loading the model" not in out and "\r" not in out and "\x1b" not in out
    assert "a log line" in out and "after" in out


def test_json_logs_on_a_terminal_get_no_progress() -> None:
    out = run_with_stderr(SCRIPT.format(fmt="json"), tty=True)
    assert "shown=False" in out
    assert "loading the model" not in out and "\x1b" not in out
    [log_line] = [x for x in out.splitlines() if x.startswith("{")]
    assert json.loads(log_line)["msg"] == "a log line"


def test_a_dumb_terminal_gets_no_progress() -> None:
    out = run_with_stderr(SCRIPT.format(fmt="text"), tty=True, env=_env(TERM="dumb"))
    assert "shown=False" in out and "loading the model" not in out


def test_the_line_is_erased_when_the_step_fails() -> None:
    stream = io.StringIO()
    with pytest.raises(RuntimeError), progress("failing step", stream=stream, enabled=True):
        raise RuntimeError("boom")
    text = stream.getvalue()
    assert "failing step ... 0 s" in text
    assert text.endswith(CLEAR)


def test_a_long_label_is_cut_to_the_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    stream = io.StringIO()
    with progress("x" * 100, stream=stream, enabled=True):
        pass
    first = stream.getvalue().split(CLEAR)[1]
    assert len(first) <= 39 and first.endswith("…")


def test_with_progress_returns_the_result_and_passes_arguments() -> None:
    assert with_progress("adding", lambda a, b=0: a + b, 2, b=3) == 5


@pytest.mark.slow
def test_validate_shows_the_model_loading_on_a_terminal(tmp_path: Path) -> None:
    """The real call site: `driftwarden validate` on a terminal, a model that is not there."""
    data = tmp_path / "labelled.csv"
    data.write_text("a,target\n1,0\n2,1\n")
    config = tmp_path / "dw.toml"
    config.write_text('[state]\ndirectory = "state"\n')
    script = (
        "import sys; from driftwarden.cli import main; "
        f"sys.exit(main(['validate', '--config', {str(config)!r}, '--data', {str(data)!r}, "
        "'--model-uri', 'models:/not-there@production']))"
    )
    env = {k: v for k, v in _env().items() if not k.startswith("MLFLOW_")}
    code, out = on_terminal(script, env, cwd=tmp_path)
    assert code != 0  # no such model
    assert "loading model models:/not-there@production ... " in out
    erased = out.split("loading model models:/not-there@production")[-1]
    assert CLEAR in erased  # erased before the error line
