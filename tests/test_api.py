"""The public Python API: ``import driftwarden as dw``, ``dw.check``, the result's views."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import driftwarden as dw
from driftwarden.detectors import check_drift, check_frames
from tests.detectors.report_data import HOSTILE, drifting_frames
from tests.support.html_page import read_page


def test_import_is_lazy_and_the_names_resolve() -> None:
    code = (
        "import sys, driftwarden as dw\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'scipy', 'mlflow') if m in sys.modules))\n"
        "dw.check\n"
        "print('pandas' in sys.modules, 'mlflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True False"]
    for name in dw.__all__:
        assert getattr(dw, name) is not None
    assert set(dw.__all__) <= set(dir(dw))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        dw.nope  # noqa: B018


def test_check_is_the_same_computation_as_the_daemon() -> None:
    reference, current = drifting_frames()
    cfg = dw.DriftConfig(alpha=0.01, correction="holm")
    result = dw.check(reference, current, alpha=0.01, correction="holm", current_version="v2")
    assert result == check_frames(reference, current, cfg, current_version="v2")
    assert result.drifted_features == ["plan", HOSTILE, "age"]
    assert (result.alpha, result.correction, result.current_version) == (0.01, "holm", "v2")


def test_options_override_a_config_and_bad_ones_are_named() -> None:
    reference, current = drifting_frames()
    base = dw.DriftConfig(alpha=0.01, exclude_columns=["steady"])
    result = dw.check(reference, current, base, correction="none")
    assert (result.alpha, result.correction) == (0.01, "none")
    assert "steady" not in [f.feature for f in result.features]
    assert dw.check(reference, current, {"columns": ["age"]}).drifted_features == ["age"]
    with pytest.raises(TypeError, match=r"unknown drift option 'alpah' \(did you mean 'alpha'\?\)"):
        dw.check(reference, current, alpah=0.01)
    with pytest.raises(ValidationError, match="alpha"):
        dw.check(reference, current, alpha=2.0)
    with pytest.raises(TypeError, match="current must be a pandas DataFrame, not list"):
        dw.check(reference, [1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reference must be a pandas DataFrame or a Prepared"):
        dw.check({"a": [1]}, current)  # type: ignore[arg-type]


def test_a_prepared_reference_is_checked_many_times_with_its_columns_fixed() -> None:
    reference, current = drifting_frames()
    cfg = dw.DriftConfig(columns=["age", "steady"])
    prepared = dw.PreparedReference.from_frame(reference, cfg, data_version="ref-1")
    first = dw.check(prepared, current, cfg)
    again = dw.check(prepared, current.iloc[:500], cfg)
    assert first == check_drift(prepared, current, cfg)
    assert [f.feature for f in first.features] == ["age", "steady"]
    assert first.reference_version == again.reference_version == "ref-1"
    assert again.n_current == 500
    with pytest.raises(ValueError, match="columns: fixed when the reference was prepared"):
        dw.check(prepared, current, columns=["plan"])
    with pytest.raises(ValueError, match="target: fixed when the reference was prepared"):
        dw.check(prepared, current, target="plan")


def test_to_frame_has_one_row_per_feature_with_the_numbers() -> None:
    reference, current = drifting_frames()
    result = dw.check(reference, current)
    frame = result.to_frame()
    assert list(frame.index) == [f.feature for f in result.features]
    assert frame.index.name == "feature"
    for feature in result.features:
        row = frame.loc[feature.feature]
        assert row["test"] == feature.test and bool(row["drifted"]) == feature.drifted
        assert row["p_value_corrected"] == feature.p_value_corrected
        assert row["effect_size"] == feature.effect_size
        assert row["effect_measure"] == (
            "wasserstein" if feature.kind == "numeric" else "jensen_shannon"
        )
        for measure, value in feature.effect_sizes.items():
            assert row[f"effect.{measure}"] == value
    assert frame["drifted"].dtype == bool and frame["p_value"].dtype == np.float64
    assert frame.loc["plan", "effect.wasserstein"] != frame.loc["plan", "effect.wasserstein"]  # NaN


def test_to_frame_of_an_untestable_column_has_missing_numbers() -> None:
    reference = pd.DataFrame({"empty": [np.nan] * 10, "x": np.arange(10.0)})
    result = dw.check(reference, reference.copy())
    frame = result.to_frame()
    assert frame.loc["empty", "error"].startswith("no finite values")
    assert np.isnan(frame.loc["empty", "p_value"])


def test_to_html_draws_the_data_the_check_kept() -> None:
    reference, current = drifting_frames()
    result = dw.check(reference, current)
    page = result.to_html(model_name="churn", source="batch.csv")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 4
    assert "Model churn" in read_page(page).text
    assert result.to_dict() == dw.DriftResult.from_dict(result.to_dict()).to_dict()  # no data in it
    rebuilt = dw.DriftResult.from_dict(result.to_dict())
    assert rebuilt == result
    assert rebuilt.to_html().count("<svg") == 0  # no data kept: tables only, said so
    assert rebuilt.to_html(reference, current).count("<svg") == 4


def test_jupyter_shows_a_scoped_report_fragment() -> None:
    reference, current = drifting_frames()
    fragment = dw.check(reference, current)._repr_html_()
    assert fragment.startswith('<div class="dwr"><style>') and fragment.endswith("</div>")
    assert "<html" not in fragment and "<body" not in fragment
    style = fragment.split("<style>")[1].split("</style>")[0]
    selectors = [rule.split("{")[0] for rule in style.replace("\n", "").split("}") if "{" in rule]
    assert all(s.strip().startswith(".dwr") for rule in selectors for s in rule.split(","))
    text = read_page(fragment).text
    assert "Dataset drift: 3 of 4 tested features drifted" in text and fragment.count("<svg") == 4
