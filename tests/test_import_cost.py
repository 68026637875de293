"""Short commands stay short: --help and `config check` import neither psycopg nor mlflow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("psycopg", "mlflow", "pandas")


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["hooks", "install", "--help"], ["config", "check"]],
    ids=["help", "hooks-install-help", "config-check"],
)
def test_short_commands_do_not_import_heavy_modules(argv: list[str], tmp_path: Path) -> None:
    code = (
        "import sys; from driftwarden.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip().splitlines()[-1] == "LOADED []"
