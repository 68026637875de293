"""Short commands stay short: --help, `config check` and refused commands import neither
psycopg nor mlflow nor pandas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("psycopg", "mlflow", "pandas")


def _run_cli(body: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``body`` in a fresh interpreter with ``main`` imported and ``loaded()`` naming the
    heavy modules imported so far."""
    code = (
        "import sys; from driftwarden.cli import main\n"
        f"def loaded():\n    return [m for m in {HEAVY!r} if m in sys.modules]\n{body}"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=cwd
    )


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["hooks", "install", "--help"], ["config", "check"]],
    ids=["help", "hooks-install-help", "config-check"],
)
def test_short_commands_do_not_import_heavy_modules(argv: list[str], tmp_path: Path) -> None:
    out = _run_cli(
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\nprint('LOADED', loaded())",
        tmp_path,
    )
    assert out.stdout.strip().splitlines()[-1] == "LOADED []"


def test_a_refused_run_imports_no_heavy_module(tmp_path: Path) -> None:
    """`run` refuses what `config check` refuses before it imports the daemon: a refusal
    (here a missing reference file) takes a fraction of a second, not the daemon's imports."""
    config = tmp_path / "dw.toml"
    config.write_text(
        '[model]\nname = "m"\n[reference]\nsource = "file"\npath = "missing.csv"\n'
        '[state]\ndirectory = "state"\n'
    )
    out = _run_cli(
        f"code = main(['run', '--config', {str(config)!r}])\nprint('EXIT', code, 'LOADED', loaded())",
        tmp_path,
    )
    assert out.stdout.strip().splitlines()[-1] == "EXIT 2 LOADED []", out.stderr
    assert "reference.path" in out.stderr
    assert not (tmp_path / "state").exists()


TWO_MODELS = '[state]\ndirectory = "state"\n[models.churn]\n[models.fraud]\n'


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["validate", "--data", "labelled.csv"], "no MLflow tracking store given"),
        (["validate", "--data", "labelled.csv", "--config", "dw.toml"], "name one of"),
        (["register", "--config", "dw.toml"], "name one of"),
        (["retrain", "--config", "dw.toml"], "name one of"),
        (["rollback", "--config", "dw.toml"], "name one of"),
    ],
    ids=["validate-no-store", "validate", "register", "retrain", "rollback"],
)
def test_a_refused_model_command_imports_no_heavy_module(
    argv: list[str], said: str, tmp_path: Path
) -> None:
    """Two kept models and no --model, or no store at all: exit 2 before MLflow's import
    (retrain's refusal took 6.8 s of CPU when it came after the remediation's imports)."""
    (tmp_path / "dw.toml").write_text(TWO_MODELS)
    (tmp_path / "labelled.csv").write_text("x,target\n1,0\n")
    out = _run_cli(f"code = main({argv!r})\nprint('EXIT', code, 'LOADED', loaded())", tmp_path)
    assert out.stdout.strip().splitlines()[-1] == "EXIT 2 LOADED []", out.stderr
    assert said in out.stderr
    assert not (tmp_path / "state").exists()


def test_a_daemon_at_rest_holds_neither_scipy_nor_sklearn_nor_mlflow(tmp_path: Path) -> None:
    """Issue 14.4: built, started and ready on a stored reference, before any check runs.

    scipy.stats (~1.7 s of CPU, ~60 MB) comes with the first check, scikit-learn with the
    first validation, mlflow with the first write or registry poll."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tests.support.daemon_proc import daemon_config\n"
        "from driftwarden.config import load_settings\n"
        "from driftwarden.daemon.service.daemon import Daemon\n"
        f"root = Path({str(tmp_path)!r})\n"
        "cfg = daemon_config(root)\n"
        "for start in range(2):  # the first prepares and stores, the second maps the store\n"
        "    daemon = Daemon.build(load_settings(cfg, env={}), cfg)\n"
        "    daemon.start()\n"
        "    daemon.stop()\n"
        "    assert daemon.parts.keeper.reference.get() is not None\n"
        "heavy = ('scipy', 'sklearn', 'mlflow', 'torch')\n"
        "print('LOADED', [m for m in heavy if m in sys.modules])\n"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip().splitlines()[-1] == "LOADED []"
