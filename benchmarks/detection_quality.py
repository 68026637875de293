"""Detection quality of driftwarden's [drift] defaults on real data, against the usual rules.

PRODUCT.md asks the defaults for: dataset-level false alarms on clean batches <= 1%; at
least 97% of real shifts found (a subpopulation selected on one feature, a changed class
mix, one column moved by 0.5 sd) and at least half of subtle ones (one column moved by
0.1-0.2 sd), naming the column, at every batch size from 40 rows up.

Every real tabular data set shipped inside the installed wheels is a pool
(``detection_data.py`` lists them, the ones left out and why, and the sampling rules).
Batches of 40-5,000 rows are drawn in four size bands, references of 100-50,000 rows (at
least as large as the batch) in four bands; within a band the sizes are drawn at random
(log-uniform), so every size is covered. A reference serves ``min(10, N // (10 m))``
batches (at least 1): when it is 10 times the batch or more, its own sampling noise is
under a tenth of the comparison's, so batches sharing it are nearly independent.

Per batch every candidate rule is judged on the same test results: three numeric tests
(KS, Anderson-Darling, Cramér-von Mises; chi-square for categorical columns), three
dataset rules (per-feature BH only, Cauchy combination, harmonic-mean p-value) and five
alphas, plus the two rules people use: scipy's KS per column with Benjamini-Hochberg at
0.05, and the seed's "any column with p < 0.05". A shift counts as found only when the
dataset verdict is drift AND the moved (or selecting) column is named (drifted, or named
as the likely source); a class mix only needs the verdict. Pools of the tuning set choose
the defaults by a fixed criterion (printed); the held-out pools are reported apart.

For one moved column the table also prints the power of an oracle: the most powerful
level-1% test of that exact shift for a Gaussian column it knows (one-sided z-test with
known variance), ``Φ(d sqrt(n m / (n + m)) - z_0.99)`` averaged over the band's sizes. No
test that looks at the moved column alone (as every per-column test does) beats it on
Gaussian data, so where it is below the goal no setting of ours can reach the goal.

Every 20th batch is also checked end to end with ``check_drift`` and ``DriftConfig()``;
the agreement with the fast path is printed.

    .venv/bin/python benchmarks/detection_quality.py --quick      # a few minutes
    nice .venv/bin/python benchmarks/detection_quality.py         # full (about an hour)
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import resource
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binom, norm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from detection_data import (
    REAL,
    SCENARIOS,
    SHIFT_SD,
    SUBTLE,
    TRIVIAL,
    Pool,
    draw_cell,
    load_pools,
    rare_class_shares,
)

from driftwarden.config.model import DriftConfig
from driftwarden.detectors import PreparedReference, check_drift
from driftwarden.detectors.base import FeatureResult, category_counts, clean_numeric
from driftwarden.detectors.chi2 import chi2_test
from driftwarden.detectors.drift import NUMERIC_TESTS
from driftwarden.detectors.effect import normalised_wasserstein
from driftwarden.detectors.prepared import CategoricalColumn, NumericColumn, prepare_column
from driftwarden.detectors.verdict import decide

BATCH_BANDS = ((40, 99), (100, 249), (250, 999), (1000, 5000))
REFERENCE_BANDS = ((100, 399), (400, 1999), (2000, 9999), (10_000, 50_000))
TESTS = ("ks", "ad", "cvm")
RULES = ("features", "cauchy", "harmonic_mean")
ALPHAS = (0.003, 0.005, 0.006, 0.007, 0.008, 0.01)
CHECK_EVERY = 20
FA_GOAL, REAL_GOAL, SUBTLE_GOAL = 0.01, 0.97, 0.50
ORACLE_ALPHA = 0.01

# Trials per (pool, batch band, reference band) cell: clean, each shift scenario, and the
# informational 0.02 sd shift.
MODES = {"quick": (6, 2, 1), "full": (80, 15, 6)}
HELD_OUT_SHARE = 0.4  # held-out pools get this share of the trials


def configs() -> dict[str, DriftConfig]:
    """Every rule judged per batch, by name."""
    out: dict[str, DriftConfig] = {}
    for test in TESTS:
        for rule in RULES:
            for alpha in ALPHAS:
                out[f"{test} {rule} {alpha}"] = DriftConfig(
                    numeric_test=test, dataset_rule=rule, alpha=alpha
                )
    no_floor = {"effect_size_floor": 0.0, "categorical_effect_size_floor": 0.0}
    out["old defaults"] = DriftConfig(numeric_test="ks", dataset_rule="features", alpha=0.005)
    out["ks+bh 0.05"] = DriftConfig(
        numeric_test="ks", dataset_rule="features", alpha=0.05, **no_floor
    )
    out["any p<0.05"] = DriftConfig(
        numeric_test="ks", dataset_rule="features", alpha=0.05, correction="none", **no_floor
    )
    # The size-dependent knobs, on the defaults of the simulating run.
    base = DriftConfig().model_dump()
    name = _grid_name(DriftConfig())
    out[f"{name}, no floor"] = DriftConfig(**{**base, **no_floor})
    out[f"{name}, floor from 1000 rows"] = DriftConfig(**{**base, "effect_floor_min_rows": 1000})
    out[f"{name}, alpha/sqrt above 1000 rows"] = DriftConfig(
        **{**base, "alpha_reference_rows": 1000}
    )
    return out


def _grid_name(cfg: DriftConfig) -> str:
    return f"{cfg.numeric_test} {cfg.dataset_rule} {cfg.alpha}"


CONFIGS = configs()
NAMES = list(CONFIGS)


def default_name() -> str:
    """The rule that equals ``DriftConfig()`` (the defaults when the tables are printed)."""
    current = DriftConfig().model_dump()
    for name, cfg in CONFIGS.items():
        if cfg.model_dump() == current:
            return name
    raise SystemExit("DriftConfig() is none of the simulated rules; rerun the simulation")


DEFAULT = default_name()


@dataclass
class Trial:
    """One batch: where it came from and, per rule, 0 no alarm / 1 alarm / 2 alarm naming the column."""

    pool: str
    held_out: bool
    rule: str
    n_ref: int
    m: int
    scenario: str
    codes: np.ndarray  # per NAMES
    known: np.ndarray  # per TESTS: the moved column's own p < ORACLE_ALPHA
    agrees: bool | None  # check_drift(DriftConfig()) equals the fast path (checked batches only)
    oracle: float  # the oracle's power for this batch's scenario and sizes (nan for clean)


def _features(
    columns: dict[str, NumericColumn | CategoricalColumn], batch: pd.DataFrame, cfg: DriftConfig
) -> dict[str, list[FeatureResult]]:
    """Per numeric test, the feature results ``check_drift`` would compute (effects once)."""
    shared: list[FeatureResult] = []
    numeric: dict[str, list[FeatureResult]] = {t: [] for t in TESTS}
    for name, column in columns.items():
        if isinstance(column, CategoricalColumn):
            counts, _ = category_counts(batch[name])
            result = FeatureResult(name, "chi2", "categorical", n_current=sum(counts.values()))
            if not counts or not column.counts:
                result.error = "empty"
            else:
                outcome = chi2_test(column.counts, counts, cfg.max_categories)
                result.p_value = outcome.p_value
                result.effect_size = outcome.effect_sizes[cfg.categorical_effect]
            shared.append(result)
            continue
        current = np.sort(clean_numeric(batch[name]).values)
        effect = None
        if column.sorted.size and current.size:
            effect = normalised_wasserstein(column.sorted, current, column.std, column.grid)
        for test in TESTS:
            result = FeatureResult(
                name, test, "numeric", effect_size=effect, n_current=current.size
            )
            try:
                if effect is None:
                    raise ValueError("empty")
                result.p_value = NUMERIC_TESTS[test](column, current).p_value
            except ValueError as exc:
                result.error = str(exc)
            numeric[test].append(result)
    return {t: numeric[t] + shared for t in TESTS}


def _named(features: list[FeatureResult], verdict_columns: Iterable[int]) -> set[str]:
    return {features[i].feature for i in verdict_columns}


def judge(
    columns: dict[str, NumericColumn | CategoricalColumn], batch: pd.DataFrame, moved: str | None
) -> tuple[np.ndarray, np.ndarray, tuple[bool, set[str]]]:
    """(codes per rule, known-column hits per test, the defaults' (alarm, named))."""
    by_test = _features(columns, batch, DriftConfig())
    codes = np.zeros(len(NAMES), dtype=np.int8)
    default_view: tuple[bool, set[str]] = (False, set())
    for index, name in enumerate(NAMES):
        cfg = CONFIGS[name]
        features = by_test[cfg.numeric_test]
        verdict = decide(features, cfg, len(batch))
        named = _named(features, [*verdict.drifted, *verdict.likely_sources])
        if verdict.dataset_drift:
            codes[index] = 2 if moved is None or moved in named else 1
        if name == DEFAULT:
            default_view = (verdict.dataset_drift, named)
    known = np.zeros(len(TESTS), dtype=bool)
    if moved is not None:
        for t, test in enumerate(TESTS):
            hit = next((f for f in by_test[test] if f.feature == moved), None)
            known[t] = hit is not None and hit.p_value is not None and hit.p_value < ORACLE_ALPHA
    return codes, known, default_view


def oracle_power(pool: Pool, scenario: str, n_ref: int, m: int) -> float:
    """Power of the most powerful level-1% test that knows exactly what changed.

    A moved column: the one-sided z-test of that shift for a Gaussian column with known
    variance, ``Φ(d sqrt(n m / (n + m)) - z_0.99)``. A class mix: the one-sided binomial
    test of the rare class's count in the batch, knowing every row's class and the pool's
    share (no test that sees only the features can know more). A subpopulation: 1.
    """
    if scenario in SHIFT_SD:
        z = norm.ppf(1 - ORACLE_ALPHA)
        return float(norm.cdf(SHIFT_SD[scenario] * math.sqrt(n_ref * m / (n_ref + m)) - z))
    if scenario == "class mix":
        base, share = rare_class_shares(pool)
        critical = binom.isf(ORACLE_ALPHA, m, base) + 1  # P(count >= critical) <= 1% under H0
        return float(binom.sf(critical - 1, m, share))
    return 1.0 if scenario == "subpopulation" else math.nan


def _log_uniform(rng: np.random.Generator, low: int, high: int) -> int:
    return round(math.exp(rng.uniform(math.log(low), math.log(high))))


@dataclass(frozen=True)
class Job:
    pool: int
    batch_band: int
    reference_band: int
    counts: tuple[tuple[str, int], ...]
    seed: int


def run_job(job: Job) -> list[Trial]:
    """All trials of one (pool, batch band, reference band) cell."""
    warnings.simplefilter("ignore")  # scipy's exact->asymp notes are not news here
    pools, _ = load_pools()
    pool = pools[job.pool]
    rng = np.random.default_rng(job.seed)
    m_low, m_high = BATCH_BANDS[job.batch_band]
    n_low, n_high = REFERENCE_BANDS[job.reference_band]
    n_low = max(n_low, m_low)
    todo = [s for s, count in job.counts for _ in range(count)]
    rng.shuffle(todo)
    trials: list[Trial] = []
    default = DriftConfig()
    while todo:
        n_ref = _log_uniform(rng, n_low, n_high)
        cell = draw_cell(pool, n_ref, m_high, rng)
        columns = {c: prepare_column(cell.reference[c], c in pool.numeric) for c in cell.reference}
        prepared: PreparedReference | None = None
        for _ in range(max(1, min(10, n_ref // (10 * m_high)))):
            if not todo:
                break
            scenario = todo.pop()
            m = _log_uniform(rng, m_low, m_high)
            made = SCENARIOS[scenario](pool, cell, m, rng)
            if made is None:
                continue  # this pool cannot make this scenario at this size
            batch, moved = made
            codes, known, (alarm, named) = judge(columns, batch, moved)
            agrees = None
            if len(trials) % CHECK_EVERY == 0:
                if prepared is None:
                    prepared = PreparedReference.from_frame(cell.reference, default)
                result = check_drift(prepared, batch, default)
                full_named = set(result.drifted_features) | set(result.likely_sources)
                agrees = result.dataset_drift == alarm and full_named == named
            trials.append(
                Trial(
                    pool.name,
                    pool.held_out,
                    cell.rule,
                    n_ref,
                    len(batch),
                    scenario,
                    codes,
                    known,
                    agrees,
                    oracle_power(pool, scenario, n_ref, len(batch)),
                )
            )
    return trials


# ----------------------------------------------------------------------------- tables


def wilson(hits: int, n: int) -> tuple[float, float, float]:
    """Rate and its 95% Wilson interval."""
    if n == 0:
        return math.nan, math.nan, math.nan
    z = 1.959964
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return p, max(0.0, centre - half), min(1.0, centre + half)


def fmt(rate: tuple[float, float, float], n: int) -> str:
    p, low, high = rate
    if n == 0:
        return "n/a"
    return f"{100 * p:5.1f}% [{100 * low:4.1f}-{100 * high:5.1f}]"


def band_of(m: int) -> int:
    return next(i for i, (low, high) in enumerate(BATCH_BANDS) if low <= m <= high)


def band_label(i: int) -> str:
    low, high = BATCH_BANDS[i]
    return f"{low:,}-{high:,}"


def rates(trials: list[Trial], index: int) -> dict[str, tuple[int, int]]:
    """(hits, n) for false alarms, real shifts found, subtle found, trivial alarms, column named."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t in trials:
        code = int(t.codes[index])
        if t.scenario == "clean":
            key = "fa"
        elif t.scenario in REAL:
            key = "real"
        elif t.scenario in SUBTLE:
            key = "subtle"
        else:
            key = "trivial"
        out[key][0] += (code > 0) if key in ("fa", "trivial") else (code == 2)
        out[key][1] += 1
        if t.scenario not in ("clean", "class mix") and code > 0:
            out["named"][0] += code == 2
            out["named"][1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def oracle(trials: list[Trial], scenarios: tuple[str, ...]) -> float:
    """Mean oracle power over these trials (``oracle_power``)."""
    powers = [t.oracle for t in trials if t.scenario in scenarios]
    return float(np.mean(powers)) if powers else math.nan


def print_band_table(title: str, trials: list[Trial], rows: list[str]) -> None:
    print(f"\n{title}")
    header = (
        f"{'batch rows':>11} {'rule':42} {'false alarms (clean)':>22} {'real shifts found':>22} "
        f"{'subtle found':>22} {'named':>6} {'0.02 sd':>7}"
    )
    print(header)
    print("-" * len(header))
    for band in range(len(BATCH_BANDS)):
        subset = [t for t in trials if band_of(t.m) == band]
        if not subset:
            continue
        for name in rows:
            r = rates(subset, NAMES.index(name))

            def cell(key: str, r: dict[str, tuple[int, int]] = r) -> str:
                hits, n = r.get(key, (0, 0))
                return fmt(wilson(hits, n), n)

            hits, n = r.get("named", (0, 0))
            named = f"{100 * hits / n:5.1f}%" if n else "  n/a"
            hits_t, n_t = r.get("trivial", (0, 0))
            trivial = f"{100 * hits_t / n_t:5.1f}%" if n_t else "  n/a"
            print(
                f"{band_label(band):>11} {_label(name):42} {cell('fa'):>22} {cell('real'):>22} "
                f"{cell('subtle'):>22} {named:>6} {trivial:>7}"
            )
        test_index = TESTS.index(DriftConfig().numeric_test)
        known_subtle = _mean([t.known[test_index] for t in subset if t.scenario in SUBTLE])
        known_real = _mean([t.known[test_index] for t in subset if t.scenario == "moved 0.5 sd"])
        oracle_real = f"{_pct(oracle(subset, REAL))} (mix {_pct(oracle(subset, ('class mix',)))})"
        print(
            f"{'':>11} {'oracle (knows what changed, 1%)':42} {'':>22} "
            f"{oracle_real:>22} {_pct(oracle(subset, SUBTLE)):>22}"
        )
        known_text = "0.5 sd: " + _pct(known_real)
        print(
            f"{'':>11} {'default test, known column, p<1%':42} {'':>22} "
            f"{known_text:>22} {_pct(known_subtle):>22}"
        )
        n_refs = [t.n_ref for t in subset]
        print(
            f"{'':>11} ({len(subset)} batches; references {min(n_refs):,}-{max(n_refs):,} rows; "
            f"scenario mix: {_mix(subset)})"
        )


def _label(name: str) -> str:
    return f"defaults ({name})" if name == DEFAULT else name


def _mean(values: list[bool]) -> float:
    return float(np.mean(values)) if values else math.nan


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:5.1f}%"


def _mix(trials: list[Trial]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for t in trials:
        counts[t.scenario] += 1
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def grid(trials: list[Trial]) -> list[tuple[bool, float, str, list[tuple[float, float, float]]]]:
    """Every grid rule: (passes, score, name, per band (FA, real, subtle)), best first.

    A rule passes when its false-alarm rate is at most 1% in every band; the score is the
    mean over bands of (real + subtle) / 2. The selected rule is the best passing one.
    """
    ranked = []
    for name in NAMES:
        if name.split(" ")[0] not in TESTS or name.count(" ") != 2:
            continue
        index = NAMES.index(name)
        per_band = []
        for band in range(len(BATCH_BANDS)):
            r = rates([t for t in trials if band_of(t.m) == band], index)
            values = [
                r[k][0] / r[k][1] if r.get(k, (0, 0))[1] else 0.0 for k in ("fa", "real", "subtle")
            ]
            per_band.append((values[0], values[1], values[2]))
        passes = all(fa <= FA_GOAL for fa, _, _ in per_band)
        score = float(np.mean([(real + subtle) / 2 for _, real, subtle in per_band]))
        ranked.append((passes, score, name, per_band))
    ranked.sort(key=lambda row: (not row[0], -row[1]))
    return ranked


def simulate(args: argparse.Namespace, pools: list[Pool]) -> tuple[list[Trial], float, float]:
    """All trials of the mode, in parallel: (trials, wall seconds, CPU seconds)."""
    null_trials, shift_trials, trivial_trials = MODES["quick" if args.quick else "full"]
    jobs = []
    for index, pool in enumerate(pools):
        share = HELD_OUT_SHARE if pool.held_out else 1.0
        for b, (m_low, _) in enumerate(BATCH_BANDS):
            for r, (_, n_high) in enumerate(REFERENCE_BANDS):
                if n_high < m_low:
                    continue  # references at least as large as the batch
                wanted = {"clean": null_trials, **dict.fromkeys(TRIVIAL, trivial_trials)}
                counts = tuple(
                    (s, max(1, round(share * wanted.get(s, shift_trials)))) for s in SCENARIOS
                )
                jobs.append(Job(index, b, r, counts, args.seed * 100_003 + len(jobs)))
    jobs.sort(key=lambda j: -(REFERENCE_BANDS[j.reference_band][1] + BATCH_BANDS[j.batch_band][1]))
    started = time.perf_counter()
    trials: list[Trial] = []
    with ProcessPoolExecutor(max_workers=args.workers) as executor:
        for done, part in enumerate(executor.map(run_job, jobs), start=1):
            trials.extend(part)
            if done % 10 == 0 or done == len(jobs):
                elapsed = time.perf_counter() - started
                print(f"  {done}/{len(jobs)} cells, {elapsed:.0f} s", file=sys.stderr, flush=True)
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    return trials, time.perf_counter() - started, cpu.ru_utime + cpu.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a few minutes instead of about an hour"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, help="also write the raw trials here (pickle)")
    parser.add_argument(
        "--load", type=Path, help="print the tables from trials saved by --save; simulate nothing"
    )
    args = parser.parse_args()
    pools, notes = load_pools()
    if args.load:
        with args.load.open("rb") as handle:
            saved = pickle.load(handle)  # our own file, written by --save
        if saved["names"] != NAMES:
            raise SystemExit(f"{args.load}: saved with other rules; rerun the simulation")
        trials, wall, cpu, mode, workers = (
            saved["trials"],
            saved["wall"],
            saved["cpu"],
            saved["mode"],
            saved["workers"],
        )
    else:
        mode, workers = ("quick" if args.quick else "full"), args.workers
        trials, wall, cpu = simulate(args, pools)
        if args.save:
            with args.save.open("wb") as handle:
                payload = {"names": NAMES, "trials": trials, "wall": wall, "cpu": cpu}
                pickle.dump({**payload, "mode": mode, "workers": workers}, handle)
    report(trials, pools, notes, mode)
    print(
        f"\nruntime {wall:.0f} s wall, {cpu:.0f} s CPU in {workers} processes on "
        f"{os.cpu_count()} cores"
    )
    print(
        f"goals: false alarms <= {100 * FA_GOAL:.0f}%; real shifts >= {100 * REAL_GOAL:.0f}%; "
        f"subtle >= {100 * SUBTLE_GOAL:.0f}% (found = alarm and the moved column named)"
    )


def report(trials: list[Trial], pools: list[Pool], notes: list[str], mode: str) -> None:
    """Every table, from the trials."""
    cfg = DriftConfig()
    print(f"mode {mode}; {os.cpu_count()} cores")
    print(
        f"driftwarden defaults: numeric_test={cfg.numeric_test} dataset_rule={cfg.dataset_rule} "
        f"alpha={cfg.alpha} correction={cfg.correction} floor={cfg.effect_size_floor} "
        f"({cfg.numeric_effect}; from {cfg.effect_floor_min_rows} rows) "
        f"alpha_reference_rows={cfg.alpha_reference_rows}"
    )
    for held_out, label in ((False, "tuning"), (True, "held out")):
        listed = ", ".join(
            f"{p.name} {p.rows}x{p.frame.shape[1]}" for p in pools if p.held_out == held_out
        )
        print(f"pools ({label}): {listed}")
    for note in notes:
        print(f"  left out: {note}")
    tuning = [t for t in trials if not t.held_out]
    held_out = [t for t in trials if t.held_out]
    checked = [t.agrees for t in trials if t.agrees is not None]
    print(
        f"\n{len(trials)} batches ({len(tuning)} tuning, {len(held_out)} held out); "
        f"check_drift(DriftConfig()) agrees with the fast path on {sum(checked)}/{len(checked)} checked"
    )
    print("\nsampling rules: false alarms of the defaults and of KS+BH 0.05 by rule (all pools)")
    for band in range(len(BATCH_BANDS)):
        parts = []
        for rule in ("disjoint", "iid"):
            subset = [t for t in trials if band_of(t.m) == band and t.rule == rule]
            for name in (DEFAULT, "ks+bh 0.05"):
                hits, n = rates(subset, NAMES.index(name)).get("fa", (0, 0))
                parts.append(f"{rule} {_label(name)} {fmt(wilson(hits, n), n)} (n={n})")
        print(f"  {band_label(band):>11}: " + "; ".join(parts))
    ranked = grid(tuning)
    print(
        "\nselection on the tuning pools: every grid rule, per band FA/real/subtle %; "
        "passing = false alarms <= 1% in every band; ranked by mean over bands of "
        "(real + subtle) / 2"
    )
    for passes, score, name, per_band in ranked:
        detail = "  ".join(
            f"{100 * fa:4.1f}/{100 * real:4.1f}/{100 * subtle:4.1f}"
            for fa, real, subtle in per_band
        )
        print(f"  {'pass' if passes else 'FAIL'} {score:.4f}  {name:28} {detail}")
    selected = next((name for passes, _, name, _ in ranked if passes), None)
    if selected is not None and selected != _grid_name(cfg):
        print(f"  NOTE: the selected rule is '{selected}', the defaults are '{_grid_name(cfg)}'")
    rows = [DEFAULT, "old defaults", "ks+bh 0.05", "any p<0.05"]
    knobs = [name for name in NAMES if ", " in name]
    print_band_table(
        "TUNING POOLS (per batch-size band; 95% Wilson intervals)", tuning, rows + knobs
    )
    print_band_table("HELD-OUT POOLS (not used for the selection)", held_out, rows)
    print_cross_table(trials)
    print_scenario_table(trials, DEFAULT)
    print_scenario_table(trials, "ks+bh 0.05")


def print_scenario_table(trials: list[Trial], name: str) -> None:
    """Found (clean: alarmed) per scenario and batch band, then per pool over all sizes."""
    index = NAMES.index(name)
    scenarios = list(SCENARIOS)
    print(
        f"\n{_label(name)}: share found per scenario (clean and 0.02 sd: share alarmed), all pools"
    )
    print(f"{'batch rows':>11} " + " ".join(f"{s:>14}" for s in scenarios))
    for band in range(len(BATCH_BANDS)):
        subset = [t for t in trials if band_of(t.m) == band]
        print(
            f"{band_label(band):>11} "
            + " ".join(f"{_found(subset, s, index):>14}" for s in scenarios)
        )
    print(f"{'pool':>13} " + " ".join(f"{s:>14}" for s in scenarios))
    for pool in dict.fromkeys(t.pool for t in trials):
        subset = [t for t in trials if t.pool == pool]
        print(f"{pool:>13} " + " ".join(f"{_found(subset, s, index):>14}" for s in scenarios))


def _found(trials: list[Trial], scenario: str, index: int) -> str:
    codes = [int(t.codes[index]) for t in trials if t.scenario == scenario]
    if not codes:
        return "-"
    alarmed = scenario == "clean" or scenario in TRIVIAL
    hits = sum(c > 0 for c in codes) if alarmed else sum(c == 2 for c in codes)
    return f"{100 * hits / len(codes):.1f}% ({len(codes)})"


def print_cross_table(trials: list[Trial]) -> None:
    print(
        f"\n{_label(DEFAULT)} by batch band x reference band (all pools): "
        "false alarms / real / subtle"
    )
    index = NAMES.index(DEFAULT)
    header = f"{'batch rows':>11} " + " ".join(
        f"{f'ref {lo:,}-{hi:,}':>24}" for lo, hi in REFERENCE_BANDS
    )
    print(header)
    for band in range(len(BATCH_BANDS)):
        parts = []
        for low, high in REFERENCE_BANDS:
            subset = [t for t in trials if band_of(t.m) == band and low <= t.n_ref <= high]
            r = rates(subset, index)
            if not subset:
                parts.append(f"{'-':>24}")
                continue
            values = [
                f"{100 * r[k][0] / r[k][1]:.1f}" if r.get(k, (0, 0))[1] else "-"
                for k in ("fa", "real", "subtle")
            ]
            parts.append(f"{'/'.join(values):>24}")
        print(f"{band_label(band):>11} " + " ".join(parts))


if __name__ == "__main__":
    main()
