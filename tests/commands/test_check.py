"""`driftwarden check`: exit codes, table and JSON output, config, MLflow logging."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(
        {
            "x": rng.normal(size=2000),
            "y": rng.normal(size=2000),
            "c": rng.choice(["a", "b"], 2000),
            "target": rng.integers(0, 2, 2000),
        }
    )
    same = pd.DataFrame(
        {
            "x": rng.normal(size=800),
            "y": rng.normal(size=800),
            "c": rng.choice(["a", "b"], 800),
            "target": 1,
        }
    )
    moved = same.assign(x=same["x"] + 1.0)
    paths = {
        "ref": tmp_path / "ref.csv",
        "same": tmp_path / "same.parquet",
        "moved": tmp_path / "moved.csv",
        "bad": tmp_path / "bad.csv",
    }
    ref.to_csv(paths["ref"], index=False)
    same.to_parquet(paths["same"])
    moved.to_csv(paths["moved"], index=False)
    paths["bad"].write_bytes(b"\xff\xfe\x00garbage")
    return paths


def test_table_lists_drifted_features_first(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(files["ref"]), str(files["moved"])]) == 0
    out = capsys.readouterr().out
    assert out.startswith("DRIFT: 1 of 3 features drifted")
    rows = [
        line.split()[0]
        for line in out.splitlines()
        if line.split() and line.split()[0] in {"x", "y", "c"}
    ]
    assert rows[0] == "x"
    assert "target" not in out.split("feature", 1)[1]  # the label column is not tested


def test_json_is_one_document_on_stdout(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "--log-level",
                "DEBUG",
                "check",
                str(files["ref"]),
                str(files["same"]),
                "--format",
                "json",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    data = json.loads(captured.out)  # exactly one document, nothing else
    assert data["dataset_drift"] is False
    assert {f["feature"] for f in data["features"]} == {"x", "y", "c"}
    assert set(data["features"][0]) >= {
        "test",
        "statistic",
        "p_value",
        "p_value_corrected",
        "effect_size",
        "drifted",
    }
    assert (
        len(data["reference_version"]) == 16
        and data["current_version"] != data["reference_version"]
    )
    assert "drift check done" in captured.err  # logs go to stderr


def test_fail_on_drift_exits_1_only_on_drift(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(files["ref"]), str(files["moved"]), "--fail-on-drift"]) == 1
    assert main(["check", str(files["ref"]), str(files["same"]), "--fail-on-drift"]) == 0


@pytest.mark.parametrize("which", ["bad", "missing"])
def test_unreadable_input_exits_2_naming_the_file(
    files: dict[str, Path], which: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = files["bad"] if which == "bad" else tmp_path / "nope.csv"
    assert main(["check", str(files["ref"]), str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert str(path) in captured.err and len(captured.err.strip().splitlines()) == 1


def test_config_drift_section_is_used(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "dw.toml"
    config.write_text('[drift]\nexclude_columns = ["x"]\ncorrection = "holm"\n')
    assert (
        main(
            [
                "check",
                str(files["ref"]),
                str(files["moved"]),
                "--config",
                str(config),
                "--format",
                "json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["correction"] == "holm"
    assert "x" not in {f["feature"] for f in data["features"]}
    assert data["dataset_drift"] is False


def test_bad_config_exits_2(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "dw.toml"
    config.write_text('[drift]\ncorrection = "sidak"\n')
    assert main(["check", str(files["ref"]), str(files["same"]), "--config", str(config)]) == 2
    assert "correction" in capsys.readouterr().err


def test_real_subprocess(files: dict[str, Path], tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "driftwarden"
    proc = subprocess.run(
        [
            str(exe),
            "check",
            str(files["ref"]),
            str(files["moved"]),
            "--format",
            "json",
            "--fail-on-drift",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["drifted_features"] == ["x"]
    assert "mlflow" not in proc.stderr.lower()


def test_mlflow_is_not_imported_without_the_flag(files: dict[str, Path], tmp_path: Path) -> None:
    code = (
        "import sys; from driftwarden.cli import main; "
        f"main(['check', {str(files['ref'])!r}, {str(files['same'])!r}, '--format', 'json']); "
        "sys.stderr.write('MLFLOW_LOADED=' + str('mlflow' in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert "MLFLOW_LOADED=False" in proc.stderr


def test_log_to_mlflow_writes_one_run(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow.tracking import MlflowClient

    config = tmp_path / "dw.toml"
    config.write_text('[state]\ndirectory = "state"\n[mlflow]\nexperiment_name = "checks"\n')
    args = [
        "check",
        str(files["ref"]),
        str(files["moved"]),
        "--config",
        str(config),
        "--format",
        "json",
        "--log-to-mlflow",
    ]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'state' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("checks")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_id == data["mlflow_run_id"]
    assert run.info.status == "FINISHED"
    assert run.data.params["reference_version"] == data["reference_version"]
    assert run.data.params["current_version"] == data["current_version"]
    assert run.data.tags["driftwarden.verdict"] == "drift"
    metrics = run.data.metrics
    assert metrics["dataset_drift"] == 1.0
    assert metrics["feature.x.drifted"] == 1.0
    x = next(f for f in data["features"] if f["feature"] == "x")
    assert metrics["feature.x.statistic"] == pytest.approx(x["statistic"])
    assert metrics["feature.x.effect_size"] == pytest.approx(x["effect_size"])
    assert {"feature.y.p_value", "feature.c.p_value", "feature.c.effect_size"} <= set(metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "drift")}
    assert artifacts == {"drift/result.json", "drift/report.html"}
    local = Path(client.download_artifacts(run.info.run_id, "drift", str(tmp_path / "dl")))
    assert json.loads((local / "result.json").read_text())["drifted_features"] == ["x"]
    html = (local / "report.html").read_text()
    assert html.index("<h3>x") < html.index("<h3>y")


@pytest.mark.parametrize("test", ["ad", "cvm"])
def test_log_to_mlflow_names_the_numeric_test(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], test: str
) -> None:
    """AD and CvM reach MLflow like KS: per-feature metrics, and the test named in the params."""
    from mlflow.tracking import MlflowClient

    config = tmp_path / "dw.toml"
    config.write_text(
        '[state]\ndirectory = "state"\n[mlflow]\nexperiment_name = "checks"\n'
        f'[drift]\nnumeric_test = "{test}"\ndataset_rule = "cauchy"\n'
    )
    args = ["check", str(files["ref"]), str(files["moved"]), "--config", str(config)]
    assert main([*args, "--format", "json", "--log-to-mlflow"]) == 0
    data = json.loads(capsys.readouterr().out)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'state' / 'mlflow.db'}")
    run = client.get_run(data["mlflow_run_id"])
    assert run.data.params["tests"] == ",".join(sorted(["chi2", test]))
    assert run.data.params["dataset_rule"] == "cauchy"
    x = next(f for f in data["features"] if f["feature"] == "x")
    assert x["test"] == test
    assert run.data.metrics["feature.x.statistic"] == pytest.approx(x["statistic"])
    assert run.data.metrics["feature.x.p_value"] == pytest.approx(x["p_value"])


# --- review fixes -------------------------------------------------------------------------


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = [line for line in captured.err.splitlines() if "INFO" not in line]
    assert len(lines) == 1, captured.err
    return lines[0]


def test_wrong_schema_exits_2_naming_file_and_column(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Columns p, q instead of the reference's x, y, c: not "no drift, 0 of 0 features"."""
    wrong = tmp_path / "wrong.csv"
    pd.DataFrame({"p": [1.0, 2.0, 3.0], "q": [4.0, 5.0, 6.0]}).to_csv(wrong, index=False)
    assert main(["check", str(files["ref"]), str(wrong), "--fail-on-drift"]) == 2
    line = _one_error_line(capsys)
    assert str(wrong) in line and "column 'x'" in line and "missing column(s)" in line


def test_text_in_a_numeric_column_exits_2_naming_file_and_column(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A third of y is text: refused (as the daemon quarantines it), not tested on the rest."""
    current = pd.read_csv(files["moved"])
    y = current["y"].astype(object)
    y[::3] = "n/a-text"
    mixed = tmp_path / "mixed.csv"
    current.assign(y=y).to_csv(mixed, index=False)
    for argv in ([], ["--fail-on-drift"], ["--format", "json"]):
        assert main(["check", str(files["ref"]), str(mixed), *argv]) == 2
        line = _one_error_line(capsys)
        assert str(mixed) in line and "column 'y'" in line and "'n/a-text'" in line


def test_blanks_in_a_numeric_column_are_missing_values_not_an_error(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = pd.read_csv(files["moved"])
    y = current["y"].astype(object)
    y[::5] = " "
    spaced = tmp_path / "spaced.csv"
    current.assign(y=y).to_csv(spaced, index=False)
    assert main(["check", str(files["ref"]), str(spaced), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    y_result = next(f for f in data["features"] if f["feature"] == "y")
    assert y_result["n_dropped"] == len(range(0, len(current), 5)) and not y_result["drifted"]


def test_huge_values_print_short_and_log_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """±1e308 in the batch: the effect prints as 1e+300-style, and --log-to-mlflow
    writes its HTML report (it used to crash in the histogram)."""
    from mlflow.tracking import MlflowClient

    rng = np.random.default_rng(5)
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur_huge.csv"
    pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)}).to_csv(ref, index=False)
    huge = np.resize([1e308, -1e308, 3.0], 300)
    pd.DataFrame({"a": huge, "b": rng.normal(size=300)}).to_csv(cur, index=False)
    config = tmp_path / "dw.toml"
    config.write_text('[state]\ndirectory = "state"\n')
    assert main(["check", str(ref), str(cur), "--config", str(config), "--log-to-mlflow"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("a "))
    assert len(row) < 120 and "e+" in row
    run_id = out.rsplit("MLflow run: ", 1)[1].split()[0]
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'state' / 'mlflow.db'}")
    local = Path(client.download_artifacts(run_id, "drift", str(tmp_path / "dl")))
    page = (local / "report.html").read_text()
    assert page.count("<svg") == 2 and "plot unavailable" not in page


def test_table_escapes_control_characters_in_column_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A column named with a newline and an ESC sequence cannot add a line or clear the screen."""
    rng = np.random.default_rng(1)
    hostile = "x\nDRIFT: forged line\x1b[2J"
    ref = pd.DataFrame({hostile: rng.normal(size=300), "y": rng.normal(size=300)})
    cur = pd.DataFrame({hostile: rng.normal(2.0, size=200), "y": rng.normal(size=200)})
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    assert main(["check", str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert not any(line.startswith("DRIFT: forged") for line in out.splitlines())
    assert "x\\nDRIFT: forged line\\x1b[2J" in out
