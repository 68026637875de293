"""Every command block in README.md runs as shown.

Convention (also stated in the README's Development section):

- A *command block* is a fenced block (```` ``` ````, ```` ```sh ````, ```` ```bash ````,
  ```` ```shell ````) with at least one line whose command is ``driftwarden`` (after
  optional ``VAR=value`` assignments and ``sudo [-u USER]``). Blocks of other tools only
  (make, systemctl, docker, promtool) are not command blocks; their own tests cover them.
- Every command block runs, whole, as a bash script in one prepared working directory
  (the files below; ``examples/`` and ``config/`` of the repository beside them), in README
  order. Each command must exit 0, or the code its line documents with a trailing comment
  ``# exits N`` (e.g. ``# exits 1`` for drift with ``--fail-on-drift``).
- A block that cannot run as shown (a usage synopsis with placeholders, steps that need
  root and /etc) is marked illustrative by the line right before its fence:
  ``<!-- illustrative: why -->``. Keep that set small; ``test_illustrative_blocks_are_few``
  lists it.

The prepared directory: ``driftwarden.toml`` (state in ``state/``, reference file
``reference.csv``, model ``my-model``, watch ``drops/``), scikit-learn's breast-cancer data
split into ``training.csv`` / ``reference.csv`` (400 rows), ``new_batch.parquet`` /
``current.csv`` / ``labelled.csv`` / ``test_data.csv`` (the other 169, labelled; the last
stands for the held-out split a training run logs) and ``drifted.csv`` (the same rows with
``mean_radius`` moved by three standard deviations). No MLflow variable is set.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
ILLUSTRATIVE = re.compile(r"^<!--\s*illustrative:\s*(.+?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)```\s*([\w-]*)\s*$")
SHELL_LANGS = {"", "sh", "bash", "shell"}
EXPECT = re.compile(r"#\s*exits\s+(\d+)\b")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\S*\s+")
SUDO = re.compile(r"^sudo(\s+-u\s+\S+|\s+-\w+)*\s+")


@dataclass(frozen=True)
class Block:
    """One fenced block of the README."""

    line: int  # 1-based line of the opening fence
    lang: str
    lines: list[str]
    illustrative: str | None  # the reason, when marked

    @property
    def id(self) -> str:
        return f"README.md:{self.line}"


def blocks(text: str) -> list[Block]:
    """Every fenced block, with its language and an illustrative mark before it, if any."""
    out: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, lang = match.group(1), match.group(2)
        mark = ILLUSTRATIVE.match(lines[i - 1].strip()) if i > 0 else None
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not re.match(rf"^{indent}```\s*$", lines[j]):
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        out.append(Block(i + 1, lang, body, mark.group(1) if mark else None))
        i = j + 1
    return out


def logical_lines(lines: list[str]) -> list[str]:
    """Lines with backslash continuations joined; comments and blank lines dropped."""
    out: list[str] = []
    current = ""
    for raw in lines:
        line = raw.rstrip()
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        out.append((current + line).strip())
        current = ""
    if current:
        out.append(current.strip())
    return out


def command_word(line: str) -> str:
    """The command a shell line runs: after VAR=value assignments and ``sudo [-u USER]``."""
    rest = line
    while ASSIGNMENT.match(rest):
        rest = ASSIGNMENT.sub("", rest, count=1)
    rest = SUDO.sub("", rest)
    return rest.split()[0] if rest.split() else ""


def command_args(line: str) -> list[str]:
    """The arguments after ``driftwarden`` on a command line (its comment dropped)."""
    rest = line.split(" #", 1)[0]
    while ASSIGNMENT.match(rest):
        rest = ASSIGNMENT.sub("", rest, count=1)
    return shlex.split(SUDO.sub("", rest))[1:]


def is_command_block(block: Block) -> bool:
    return block.lang in SHELL_LANGS and any(
        command_word(line) == "driftwarden" for line in logical_lines(block.lines)
    )


def expected_code(line: str) -> int:
    match = EXPECT.search(line[line.index("#") :]) if "#" in line else None
    return int(match.group(1)) if match else 0


def script_for(block: Block, results: Path) -> str:
    """The block as bash: each command, then its exit code appended to ``results``."""
    parts = ["set -u"]
    for index, line in enumerate(logical_lines(block.lines)):
        parts.append(line)
        parts.append(f"echo {index} $? >> {shlex.quote(str(results))}")
    return "\n".join(parts) + "\n"


README_BLOCKS = blocks(README.read_text(encoding="utf-8"))
COMMAND_BLOCKS = [b for b in README_BLOCKS if is_command_block(b)]
RUNNABLE = [b for b in COMMAND_BLOCKS if b.illustrative is None]


# --- the parser itself ------------------------------------------------------------------


def test_parser_finds_blocks_marks_and_commands() -> None:
    text = (
        "intro\n```\nmake demo\n```\n"
        "<!-- illustrative: a synopsis -->\n```\ndriftwarden run --config FILE\n```\n"
        "```sh\n# a comment\nX=1 driftwarden check a.csv \\\n    b.csv --fail-on-drift  # exits 1\n```\n"
        "- item\n\n  ```sh\n  sudo -u dw driftwarden config check --config /etc/x.toml\n  ```\n"
        "```python\ndriftwarden = 1\n```\n"
    )
    found = blocks(text)
    assert [b.lang for b in found] == ["", "", "sh", "sh", "python"]
    assert [is_command_block(b) for b in found] == [False, True, True, True, False]
    assert found[1].illustrative == "a synopsis"
    assert logical_lines(found[2].lines) == [
        "X=1 driftwarden check a.csv      b.csv --fail-on-drift  # exits 1"
    ]
    assert expected_code(logical_lines(found[2].lines)[0]) == 1
    assert command_word("sudo -u dw driftwarden config check") == "driftwarden"
    assert command_word("sudo install -m 0640 -g driftwarden x y") == "install"
    assert command_args("sudo -u dw driftwarden config check  # why") == ["config", "check"]
    assert expected_code("driftwarden check a b  # exits 2: a bad file") == 2
    assert expected_code("driftwarden check a b  # exit 1 when it drifted") == 0  # a condition
    assert expected_code("driftwarden check a b") == 0


def test_the_readme_has_command_blocks_that_run() -> None:
    assert len(RUNNABLE) >= 2
    assert any("--fail-on-drift" in " ".join(b.lines) for b in RUNNABLE)


def test_illustrative_blocks_are_few() -> None:
    """Each illustrative block says why; a new one needs a reason a reviewer accepts."""
    marked = [b for b in README_BLOCKS if b.illustrative is not None]
    assert all(b.illustrative for b in marked)
    assert len(marked) <= 4, [(b.id, b.illustrative) for b in marked]


def test_every_readme_command_parses_with_the_real_cli() -> None:
    """Also the illustrative ones: a renamed flag shows up here even in a synopsis."""
    from driftwarden.cli import build_parser

    parser = build_parser()
    for block in COMMAND_BLOCKS:
        for line in logical_lines(block.lines):
            if command_word(line) != "driftwarden":
                continue
            words = command_args(line)
            if block.illustrative is not None:  # a synopsis: optional parts, placeholders
                words = [w for w in words if not w.startswith("[") and not w.endswith("]")]
                words = ["1" if w.isupper() else w.split("|")[0] for w in words]
            try:
                parser.parse_args(words)
            except SystemExit as exc:
                pytest.fail(f"{block.id}: `{line}` does not parse ({exc.code})")


# --- running them -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("readme")
    for name in ("examples", "config"):
        (work / name).symlink_to(REPO / name, target_is_directory=True)
    data = pd.read_csv(REPO / "examples" / "model_project" / "data" / "breast_cancer.csv")
    order = np.random.default_rng(0).permutation(len(data))
    train, new = data.iloc[order[:400]], data.iloc[order[400:]]
    train.to_csv(work / "training.csv", index=False)
    train.to_csv(work / "reference.csv", index=False)
    new.to_parquet(work / "new_batch.parquet", index=False)
    new.to_csv(work / "current.csv", index=False)
    new.to_csv(work / "labelled.csv", index=False)
    new.to_csv(work / "test_data.csv", index=False)
    moved = new.assign(mean_radius=new["mean_radius"] + 3 * train["mean_radius"].std())
    moved.to_csv(work / "drifted.csv", index=False)
    (work / "drops").mkdir()
    (work / "driftwarden.toml").write_text(
        '[model]\nname = "my-model"\n\n[reference]\nsource = "file"\npath = "reference.csv"\n\n'
        '[watch]\npaths = ["drops"]\n\n[state]\ndirectory = "state"\n\n[metrics]\nport = 0\n',
        encoding="utf-8",
    )
    return work


def _env(work: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_", "DRIFTWARDEN_")) and k != "STATE_DIRECTORY"
    }
    bin_dir = str(Path(sys.executable).parent)  # driftwarden and mlflow, as on the user's PATH
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PWD"] = str(work)
    return env


@pytest.mark.slow
@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_readme_block_runs_as_shown(block: Block, workdir: Path) -> None:
    if shutil.which("bash") is None:  # pragma: no cover - every supported system has bash
        pytest.fail("bash is needed to run the README's blocks")
    results = workdir.parent / f"{workdir.name}-{block.line}.codes"
    results.unlink(missing_ok=True)
    proc = subprocess.run(
        ["bash", "-c", script_for(block, results)],
        cwd=workdir,
        env=_env(workdir),
        capture_output=True,
        text=True,
        timeout=540,
    )
    commands = logical_lines(block.lines)
    codes = dict((int(i), int(c)) for i, c in (x.split() for x in results.read_text().splitlines()))
    for index, line in enumerate(commands):
        got = codes.get(index)
        want = expected_code(line)
        assert got == want, (
            f"{block.id}: `{line}` exited {got}, the README says {want}\n"
            f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"
        )
