"""How well driftwarden estimates a model's performance without labels, on scikit-learn's datasets.

For each dataset and repetition the rows are split at random into a training set (the model
learns from it), a labelled evaluation set (the estimators calibrate on it; the "no change"
guess is the model's score there) and a pool that batches are drawn from, without
replacement, so a batch never shares rows with the evaluation set:

* ``clean``: disjoint chunks of the pool (no shift);
* ``subpopulation``: pool rows whose value of one random feature is above its median
  (the same covariate shift as ``detection_quality.py``); on these data the model's
  performance barely moves with it, so "no change" is hard to beat there;
* ``weak segment``: the pool rows in the third of one feature's range where the model does
  worst (of every feature's lower, middle and upper third, the one with the lowest accuracy
  or highest MAE on the pool): traffic moving into the segment where the model is weak.
  The rows are still chosen by a feature value, so it is a covariate shift;
* ``class mix``: the rarest class's share doubled (classifiers; also as in
  ``detection_quality.py``).

Every method estimates the same batches; the batch's hidden labels give the realized value.
Classifiers: accuracy (a random forest, like ``examples/model_project``), methods ``cbpe``
and ``iw-cbpe``; regressors: MAE (a random forest regressor, like
``examples/regression_project``), methods ``dle`` and ``iw-dle``. Reported per dataset and
scenario: the mean absolute error of each estimate, the share of batches within 0.03
accuracy (regression: within 10% of the realized MAE), and how often the interval holds the
realized value. The real datasets are small, so their batches are too (tens to a few
hundred rows) and their errors are mostly the batch's own sampling noise; the two synthetic
sets (labelled as such) have batches of 1,000 rows where segments differ in how
predictable they are.

Targets (issue 12): on covariate-shift batches the estimate's error at most half the "no
change" error, and intervals that hold the realized value on at least 90% of clean batches.

    .venv/bin/python benchmarks/estimation_quality.py            # quick (a few minutes)
    .venv/bin/python benchmarks/estimation_quality.py --full     # more repetitions
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn import datasets
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from threadpoolctl import threadpool_limits

from driftwarden.detectors.estimation import (
    ClassifierOutputs,
    Outputs,
    classifier_outputs,
    fit_estimator,
    label_key,
    regressor_outputs,
)

CLASSIFICATION_METHODS = ("cbpe", "iw-cbpe")
REGRESSION_METHODS = ("dle", "iw-dle")
ACCURACY_TOLERANCE = 0.03
MAE_TOLERANCE = 0.10  # relative to the realized MAE
SYNTHETIC_ROWS = 20_000
SYNTHETIC_SPLIT = (4_000, 2_000)  # training, evaluation rows; the rest is the pool
SYNTHETIC_BATCH = 1_000


@dataclass(frozen=True)
class Dataset:
    name: str
    task: str
    synthetic: bool
    load: Callable[[], tuple[pd.DataFrame, np.ndarray]]


def _bundled(loader: Callable[..., object]) -> Callable[[], tuple[pd.DataFrame, np.ndarray]]:
    def load() -> tuple[pd.DataFrame, np.ndarray]:
        bunch = loader(as_frame=True)
        frame = bunch.frame  # type: ignore[attr-defined]
        return frame.drop(columns=["target"]), frame["target"].to_numpy()

    return load


def synthetic_classification() -> tuple[pd.DataFrame, np.ndarray]:
    """8 informative features; how predictable a row is grows with feature x0.

    ``P(y=1 | x) = sigmoid(exp(0.8 x0) * (x . w + 0.5 x1 x2))``: rows with a small x0 are
    close to coin flips, rows with a large one nearly certain.
    """
    rng = np.random.default_rng(12)
    x = rng.normal(size=(SYNTHETIC_ROWS, 8))
    w = np.array([0.4, 1.5, 1.2, 1.0, 0.8, 0.6, 0.4, 0.2])
    logit = np.exp(0.8 * x[:, 0]) * (x @ w + 0.5 * x[:, 1] * x[:, 2])
    y = (rng.uniform(size=SYNTHETIC_ROWS) < expit(logit)).astype(int)
    return pd.DataFrame(x, columns=[f"x{i}" for i in range(8)]), y


def synthetic_regression() -> tuple[pd.DataFrame, np.ndarray]:
    """Friedman #1 with noise whose standard deviation grows with feature x0 (0.5 to 3.5)."""
    x, y = datasets.make_friedman1(SYNTHETIC_ROWS, noise=0.0, random_state=13)
    rng = np.random.default_rng(14)
    y = y + rng.normal(size=SYNTHETIC_ROWS) * (0.5 + 3.0 * x[:, 0])
    return pd.DataFrame(x, columns=[f"x{i}" for i in range(10)]), y


DATASETS = [
    Dataset("breast_cancer", "classification", False, _bundled(datasets.load_breast_cancer)),
    Dataset("wine", "classification", False, _bundled(datasets.load_wine)),
    Dataset("digits", "classification", False, _bundled(datasets.load_digits)),
    Dataset("synthetic (classification)", "classification", True, synthetic_classification),
    Dataset(
        "diabetes",
        "regression",
        False,
        _bundled(lambda **kw: datasets.load_diabetes(scaled=False, **kw)),
    ),
    Dataset("synthetic (Friedman #1)", "regression", True, synthetic_regression),
]


@dataclass
class Record:
    """One batch: the realized value and each method's estimate and interval."""

    dataset: str
    task: str
    synthetic: bool
    scenario: str
    rows: int
    realized: float
    estimates: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    floor: float  # expected |realized - its expectation given the rows|: no estimate beats it


def _split(n: int, synthetic: bool, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    order = rng.permutation(n)
    if synthetic:
        a, b = SYNTHETIC_SPLIT
        return order[:a], order[a : a + b], order[a + b :]
    a, b = int(0.4 * n), int(0.7 * n)
    return order[:a], order[a:b], order[b:]


def _weak_segment(
    frame: pd.DataFrame, pool: np.ndarray, errors: np.ndarray, size: int, rng: np.random.Generator
) -> np.ndarray:
    """Pool rows of the feature third with the highest mean error (``errors``: one per pool row)."""
    best: tuple[float, np.ndarray] = (-np.inf, pool)
    for column in frame.columns:
        values = frame[column].to_numpy()
        low, high = np.quantile(values, [1 / 3, 2 / 3])
        if low == high:
            continue
        at = values[pool]
        for inside in (at <= low, (at > low) & (at <= high), at > high):
            if inside.sum() >= min(30, size) and errors[inside].mean() > best[0]:
                best = (float(errors[inside].mean()), pool[inside])
    rows = best[1]
    return rng.choice(rows, min(size, rows.size), replace=False)


def _batches(
    frame: pd.DataFrame,
    y: np.ndarray,
    pool: np.ndarray,
    errors: np.ndarray,
    task: str,
    size: int,
    rng: np.random.Generator,
) -> Iterator[tuple[str, np.ndarray]]:
    """The scenarios' row indices, all drawn from the pool without replacement."""
    shuffled = rng.permutation(pool)
    for start in range(0, min(3 * size, shuffled.size - size + 1), size):
        yield "clean", shuffled[start : start + size]
    movable = frame.columns[frame.std() > 0]
    made = 0
    for _ in range(50):
        if made == 2:
            break
        column = str(rng.choice(movable))
        values = frame[column].to_numpy()
        eligible = pool[values[pool] > np.median(values)]
        if eligible.size >= min(30, size):
            made += 1
            yield "subpopulation", rng.choice(eligible, min(size, eligible.size), replace=False)
    yield "weak segment", _weak_segment(frame, pool, errors, size, rng)
    if task == "classification":
        classes, counts = np.unique(y, return_counts=True)
        rare = classes[np.argmin(counts)]
        share = min(2 * counts.min() / counts.sum(), 0.9)
        rare_rows = pool[y[pool] == rare][: round(share * size)]
        other_rows = pool[y[pool] != rare]
        n_other = min(other_rows.size, round(rare_rows.size * (1 - share) / share))
        yield (
            "class mix",
            np.concatenate([rare_rows, rng.choice(other_rows, n_other, replace=False)]),
        )


def _outputs(model: object, frame: pd.DataFrame, task: str) -> Outputs:
    if task == "regression":
        return regressor_outputs(model.predict(frame))  # type: ignore[attr-defined]
    return classifier_outputs(
        model.predict_proba(frame),  # type: ignore[attr-defined]
        list(model.classes_),  # type: ignore[attr-defined]
        model.predict(frame),  # type: ignore[attr-defined]
    )


def _realized(outputs: Outputs, y: np.ndarray) -> float:
    if isinstance(outputs, ClassifierOutputs):
        classes = np.array(outputs.classes)
        return float(np.mean(classes[outputs.predicted] == np.array([label_key(v) for v in y])))
    return float(np.mean(np.abs(y - outputs.predicted)))


def run_repetition(index: int, repetition: int) -> list[Record]:
    """One split, one model, every scenario's batches, every method."""
    dataset = DATASETS[index]
    rng = np.random.default_rng(1000 * index + repetition)
    frame, y = dataset.load()
    train, evaluation, pool = _split(len(frame), dataset.synthetic, rng)
    task = dataset.task
    if task == "classification":
        model: object = RandomForestClassifier(100, random_state=repetition, n_jobs=1)
        methods, metric = CLASSIFICATION_METHODS, "accuracy"
    else:
        model = RandomForestRegressor(100, min_samples_leaf=5, random_state=repetition, n_jobs=1)
        methods, metric = REGRESSION_METHODS, "mae"
    model.fit(frame.iloc[train], y[train])  # type: ignore[attr-defined]
    ref_frame = frame.iloc[evaluation].reset_index(drop=True)
    ref_outputs = _outputs(model, ref_frame, task)
    estimators = {
        m: fit_estimator(m, ref_outputs, y[evaluation], ref_frame, seed=repetition, min_rows=40)
        for m in methods
    }
    size = SYNTHETIC_BATCH if dataset.synthetic else max(pool.size // 3, 30)
    pool_outputs = _outputs(model, frame.iloc[pool], task)
    if isinstance(pool_outputs, ClassifierOutputs):
        predicted = np.array(pool_outputs.classes)[pool_outputs.predicted]
        errors = (predicted != np.array([label_key(v) for v in y[pool]])).astype(float)
    else:
        errors = np.abs(y[pool] - pool_outputs.predicted)
    records = []
    for scenario, rows in _batches(frame, y, pool, errors, task, size, rng):
        batch = frame.iloc[rows].reset_index(drop=True)
        outputs = _outputs(model, batch, task)
        estimates = {"no change": estimators[methods[0]].reference[metric]}
        intervals: dict[str, tuple[float, float]] = {}
        for name, estimator in estimators.items():
            result = estimator.estimate(outputs, batch)
            estimates[name] = result.estimated[metric]
            intervals[name] = result.interval[metric]
        # mean absolute deviation of a normal: sqrt(2 / pi) sd
        floor = float(np.sqrt(2 / np.pi) * result.details["sampling_sd"])
        records.append(
            Record(
                dataset.name,
                task,
                dataset.synthetic,
                scenario,
                len(rows),
                _realized(outputs, y[rows]),
                estimates,
                intervals,
                floor,
            )
        )
    return records


def _job(args: tuple[int, int]) -> list[Record]:
    with threadpool_limits(1):
        return run_repetition(*args)


def _close(record: Record, method: str) -> bool:
    error = abs(record.estimates[method] - record.realized)
    if record.task == "classification":
        return error <= ACCURACY_TOLERANCE
    return error <= MAE_TOLERANCE * record.realized


def _error(record: Record, method: str) -> float:
    return abs(record.estimates[method] - record.realized)


def _relative(record: Record, method: str) -> float:
    """Accuracy error as is; MAE error relative to the realized MAE (datasets differ in scale)."""
    error = _error(record, method)
    return error if record.task == "classification" else error / record.realized


def _covered(record: Record, method: str) -> bool:
    low, high = record.intervals[method]
    return bool(low <= record.realized <= high)


def summary_table(records: list[Record]) -> str:
    """Per dataset and scenario: mean |error| and share close per method, the noise floor, coverage."""
    lines = []
    for task, methods, unit in (
        ("classification", CLASSIFICATION_METHODS, "accuracy"),
        ("regression", REGRESSION_METHODS, "MAE"),
    ):
        names = ["no change", *methods]
        close_note = "within 0.03" if task == "classification" else "within 10%"
        lines += [
            f"\n{task} ({unit}): mean |estimate - realized| per method; floor: the batch's own "
            f"sampling noise; close: share {close_note}; cover: interval holds the realized value",
            f"{'dataset':<27} {'scenario':<13} {'batches':>7} {'rows':>5} {'realized':>8} "
            + " ".join(f"{n:>9}" for n in names)
            + f" {'floor':>8} "
            + " ".join(f"{'close ' + n:>15}" for n in names)
            + " "
            + " ".join(f"{'cover ' + m:>13}" for m in methods),
        ]
        order = [d.name for d in DATASETS]
        keys = sorted(
            {(r.dataset, r.scenario) for r in records if r.task == task},
            key=lambda k: (order.index(k[0]), k[1]),
        )
        for dataset, scenario in keys:
            group = [r for r in records if r.dataset == dataset and r.scenario == scenario]
            lines.append(
                f"{dataset:<27} {scenario:<13} {len(group):>7} "
                f"{np.mean([r.rows for r in group]):>5.0f} {np.mean([r.realized for r in group]):>8.4f} "
                + " ".join(f"{np.mean([_error(r, n) for r in group]):>9.4f}" for n in names)
                + f" {np.mean([r.floor for r in group]):>8.4f} "
                + " ".join(f"{np.mean([_close(r, n) for r in group]):>15.0%}" for n in names)
                + " "
                + " ".join(f"{np.mean([_covered(r, m) for r in group]):>13.0%}" for m in methods)
            )
    return "\n".join(lines)


def target_lines(records: list[Record]) -> str:
    """The issue's targets per task: error ratio against "no change" on shifted batches
    (regression: errors relative to the realized MAE), interval coverage on clean ones.

    ``floor`` is the ratio a perfect estimator would reach: the batch's own sampling noise
    over the "no change" error. Where it is above 0.50 the target cannot be met by any
    estimate, only by larger batches or shifts that move the performance more.
    """
    lines = [
        "\ntargets: on shifted batches the estimate's mean error <= 0.50 x the 'no change' "
        "error; on clean batches the interval holds the realized value >= 90% of the time"
    ]
    for task, methods in (
        ("classification", CLASSIFICATION_METHODS),
        ("regression", REGRESSION_METHODS),
    ):
        for label, keep in (
            ("synthetic", lambda r: r.synthetic),
            ("real", lambda r: not r.synthetic),
            ("all", lambda r: True),
        ):
            mine = [r for r in records if r.task == task and keep(r)]
            clean = [r for r in mine if r.scenario == "clean"]
            for scope in ("every shift", "subpopulation", "weak segment", "class mix"):
                shifted = [
                    r
                    for r in mine
                    if r.scenario != "clean" and scope in ("every shift", r.scenario)
                ]
                if not shifted:
                    continue
                baseline = float(np.mean([_relative(r, "no change") for r in shifted]))
                scale = [r.realized if r.task == "regression" else 1.0 for r in shifted]
                floor = float(np.mean([r.floor / s for r, s in zip(shifted, scale, strict=True)]))
                parts = [f"floor {floor / baseline:.2f}"]
                for method in methods:
                    ratio = float(np.mean([_relative(r, method) for r in shifted])) / baseline
                    parts.append(f"{method} {ratio:.2f} {'ok' if ratio <= 0.5 else 'MISSED'}")
                lines.append(
                    f"  {task:<14} {label:<9} {scope:<13} ({len(shifted):>3} batches) "
                    f"error / no-change: " + ", ".join(parts)
                )
            if clean:
                coverage = [
                    f"{m} {np.mean([_covered(r, m) for r in clean]):.1%} "
                    f"{'ok' if np.mean([_covered(r, m) for r in clean]) >= 0.9 else 'MISSED'}"
                    for m in methods
                ]
                lines.append(
                    f"  {task:<14} {label:<9} {'clean':<13} ({len(clean):>3} batches) "
                    "interval coverage: " + ", ".join(coverage)
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="more repetitions (slower)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument(
        "--datasets",
        nargs="+",
        metavar="NAME",
        help="only these (names as printed, e.g. digits diabetes; default: all)",
    )
    args = parser.parse_args()
    real_reps, synthetic_reps = (20, 6) if args.full else (6, 2)
    jobs = [
        (i, r)
        for i, dataset in enumerate(DATASETS)
        if not args.datasets
        or dataset.name.split(" ")[0] in args.datasets
        or dataset.name in args.datasets
        for r in range(synthetic_reps if dataset.synthetic else real_reps)
    ]
    print(
        f"estimation quality: {'full' if args.full else 'quick'} mode, {real_reps} repetitions "
        f"per real dataset, {synthetic_reps} per synthetic one; {os.cpu_count()} cores, "
        f"{args.workers} worker process(es)"
    )
    started = time.perf_counter()
    records: list[Record] = []
    with ProcessPoolExecutor(args.workers) as pool:
        for batch in pool.map(_job, jobs):
            records.extend(batch)
    elapsed = time.perf_counter() - started
    print(summary_table(records))
    print(target_lines(records))
    print(
        f"\n{len(records)} batches in {elapsed:.0f} s ({elapsed / len(records):.2f} s per batch, all methods)"
    )


if __name__ == "__main__":
    main()
