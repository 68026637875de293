"""`check --report FILE` writes the HTML report and says where; `--log-to-mlflow` says where
the run and its report went, and names the run after the file and the verdict."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.cli import main

DRIFTWARDEN = Path(sys.executable).parent / "driftwarden"


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(7)
    ref = pd.DataFrame({"x": rng.normal(size=1500), "y": rng.normal(size=1500)})
    cur = pd.DataFrame({"x": rng.normal(size=600) + 1.0, "y": rng.normal(size=600)})
    paths = {"ref": tmp_path / "ref.csv", "cur": tmp_path / "batch_0042.csv"}
    ref.to_csv(paths["ref"], index=False)
    cur.to_csv(paths["cur"], index=False)
    return paths


def test_report_is_written_and_its_path_printed_on_stderr(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "out" / "report.html"
    report.parent.mkdir()
    assert main(["check", str(files["ref"]), str(files["cur"]), "--report", str(report)]) == 0
    captured = capsys.readouterr()
    page = report.read_text(encoding="utf-8")
    assert "<html" in page.lower() and "</html>" in page.lower()
    assert f"HTML report: {report}" in captured.err.splitlines()
    assert str(report) not in captured.out  # stdout: the table only
    assert captured.out.startswith("DRIFT: 1 of 2 features drifted")
    mode = stat.S_IMODE(report.stat().st_mode)
    assert mode & 0o044 == 0o044 & ~_umask()  # readable like any file the user writes
    assert [p.name for p in report.parent.iterdir()] == ["report.html"]  # no temp left


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.slow
def test_json_mode_puts_the_path_in_the_document_and_nothing_else_on_stdout(
    files: dict[str, Path], tmp_path: Path
) -> None:
    report = tmp_path / "r.html"
    proc = subprocess.run(
        [str(DRIFTWARDEN), "check", str(files["ref"]), str(files["cur"]),
         "--format", "json", "--report", "r.html"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)  # exactly one document
    assert document["report"] == str(report)
    assert report.is_file()
    assert "HTML report:" not in proc.stderr


def test_a_relative_report_path_is_printed_absolute(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert main(["check", str(files["ref"]), str(files["cur"]), "--report", "rel.html"]) == 0
    assert f"HTML report: {tmp_path / 'rel.html'}" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["missing-dir/r.html", "."])
def test_an_unwritable_report_path_is_exit_2_naming_it(
    files: dict[str, Path], tmp_path: Path, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = str(tmp_path / where)
    assert main(["check", str(files["ref"]), str(files["cur"]), "--report", target]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = [x for x in captured.err.splitlines() if x.startswith("driftwarden check:")]
    assert f"--report {target}" in line


def test_fail_on_drift_still_writes_the_report(files: dict[str, Path], tmp_path: Path) -> None:
    report = tmp_path / "r.html"
    argv = [
        "check",
        str(files["ref"]),
        str(files["cur"]),
        "--fail-on-drift",
        "--report",
        str(report),
    ]
    assert main(argv) == 1
    assert report.is_file()


@pytest.mark.slow
def test_log_to_mlflow_prints_the_run_and_where_the_report_went(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow.tracking import MlflowClient

    config = tmp_path / "dw.toml"
    config.write_text('[state]\ndirectory = "state"\n[mlflow]\nexperiment_name = "checks"\n')
    report = tmp_path / "local.html"
    argv = ["check", str(files["ref"]), str(files["cur"]), "--config", str(config),
            "--log-to-mlflow", "--report", str(report)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    run_line = next(line for line in out.splitlines() if line.startswith("MLflow run: "))
    run_id = run_line.split()[2]
    assert run_line == f"MLflow run: {run_id} (experiment 'checks')"
    report_line = next(line for line in out.splitlines() if line.startswith("MLflow report: "))
    uri = report_line.removeprefix("MLflow report: ")
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'state' / 'mlflow.db'}")
    run = client.get_run(run_id)
    assert uri == f"{run.info.artifact_uri}/drift/report.html"
    # the URI is where the artifact really is, and it is the same page as --report's
    from urllib.parse import unquote, urlparse

    assert Path(unquote(urlparse(uri).path)).read_text() == report.read_text()
    assert run.info.run_name == "drift · batch_0042.csv · drift"


@pytest.mark.slow
def test_json_mode_has_the_run_fields(files: dict[str, Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    config = tmp_path / "dw.toml"
    config.write_text('[state]\ndirectory = "state"\n')
    argv = ["check", str(files["ref"]), str(files["cur"]), "--config", str(config),
            "--log-to-mlflow", "--format", "json"]  # fmt: skip
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["mlflow_experiment"] == "driftwarden"
    assert document["mlflow_report_uri"].endswith(
        f"/{document['mlflow_run_id']}/artifacts/drift/report.html"
    )
    assert "report" not in document  # no --report: no local file
