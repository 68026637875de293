"""Real data pools for detection_quality.py, the sampling rules and the shift scenarios.

Pools: every tabular data set that ships inside the installed wheels (nothing is
downloaded). scikit-learn's bundled sets, and the complete OpenML tables scikit-learn
ships as test fixtures (titanic, penguins, cpu, glass2, kr-vs-kp). Left out, with the
reason printed: linnerud (20 rows, fewer than the smallest reference plus batch), the
fixtures that are truncated copies (australian: 86 of 690 rows; anneal, adult, zoo,
emotions, mice_protein: a few rows), and matplotlib's sample data (single time series
and elevation grids, not tables of cases).

Sampling rules (``draw_cell``), chosen per cell of (pool, reference rows N, batch rows m):

* ``disjoint`` when the pool has at least N + 4m rows: each reference takes N rows at
  random without replacement; its batches are drawn without replacement from the other
  rows only (4m of them, so a subpopulation or class mix still has enough rows). The
  reference and its batches never share a row; values are the data's own, ties included.
* ``iid`` otherwise (large cells on small pools): reference and batch rows are drawn
  independently, with replacement, from the whole pool, and every numeric column with
  more than 20 distinct values gets independent uniform jitter of ±0.45 times its
  smallest gap between distinct values. Both samples are then independent draws from one
  continuous population that agrees with the pool at the data's own resolution, so a
  clean batch is an exact null, as with disjoint rows: a row drawn twice never gives two
  equal values across the samples (the reason disjointness matters), and columns with
  few values keep their real ties. The benchmark prints both rules' false-alarm rates
  on the cells where both are possible, so the reader can check they agree.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn import datasets

DISCRETE_MAX_VALUES = 20  # columns with at most this many distinct values keep their ties
JITTER_SHARE = 0.45  # of the smallest gap: the jitter never reorders distinct values
DISJOINT_BATCH_FACTOR = 4  # a disjoint cell needs N + 4 m rows
SMALLEST_POOL = 140  # the smallest reference (100) plus the smallest batch (40)


@dataclass
class Pool:
    """One data set: numeric and categorical columns, a class label, and its jitter widths."""

    name: str
    frame: pd.DataFrame  # features only; categorical columns have dtype object
    labels: np.ndarray  # class per row (regression targets split at the median)
    held_out: bool
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    jitter: dict[str, float] = field(default_factory=dict)
    sd: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.frame.columns:
            column = self.frame[name]
            if pd.api.types.is_numeric_dtype(column.dtype):
                self.numeric.append(name)
                values = np.unique(column.dropna().to_numpy(np.float64))
                self.sd[name] = float(np.nanstd(column.to_numpy(np.float64)))
                if values.size > DISCRETE_MAX_VALUES:
                    self.jitter[name] = JITTER_SHARE * float(np.min(np.diff(values)))
            else:
                self.categorical.append(name)

    @property
    def rows(self) -> int:
        return len(self.frame)


def _arff(relative: str) -> pd.DataFrame | None:
    """One of scikit-learn's OpenML fixtures (an ARFF file), or None when not installed."""
    from sklearn.externals import _arff

    path = Path(sklearn.__file__).parent / "datasets" / "tests" / "data" / "openml" / relative
    if not path.exists():
        return None
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        data = _arff.load(handle)
    names = [a[0] for a in data["attributes"]]
    frame = pd.DataFrame(data["data"], columns=names)
    for name, kind in data["attributes"]:
        if kind in ("NUMERIC", "REAL", "INTEGER"):
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    return frame


def _median_split(values: np.ndarray) -> np.ndarray:
    return (values > np.median(values)).astype(int)


def _sklearn(name: str, loader: Callable[..., object], held_out: bool) -> Pool:
    bunch = loader(as_frame=True)
    frame = bunch.frame.drop(columns=["target"])  # type: ignore[attr-defined]
    target = bunch.frame["target"].to_numpy()  # type: ignore[attr-defined]
    labels = _median_split(target) if name == "diabetes" else target.astype(int)
    return Pool(name, frame.astype(np.float64), labels, held_out)


def _categorical(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    for name in names:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def load_pools() -> tuple[list[Pool], list[str]]:
    """(pools, notes about what was left out and why)."""
    pools = [
        _sklearn("breast_cancer", datasets.load_breast_cancer, held_out=False),
        _sklearn("diabetes", datasets.load_diabetes, held_out=False),
        _sklearn("digits", datasets.load_digits, held_out=False),
        _sklearn("wine", datasets.load_wine, held_out=False),
        _sklearn("iris", datasets.load_iris, held_out=True),
    ]
    notes = [
        "linnerud: 20 rows, fewer than the smallest reference plus batch (140)",
        "australian, anneal, adult, zoo, emotions, mice_protein: truncated fixture copies",
        "matplotlib sample data: time series and grids, not tables of cases",
    ]
    missing: list[str] = []
    titanic = _arff("id_40945/data-v1-dl-16826755.arff.gz")
    if titanic is not None:
        labels = titanic["survived"].astype(int).to_numpy()
        frame = titanic[["pclass", "age", "sibsp", "parch", "fare", "sex", "embarked"]].copy()
        notes.append("titanic: body (91% missing), name, ticket, cabin, boat, home.dest left out")
        pools.append(Pool("titanic", _categorical(frame, ["sex", "embarked"]), labels, True))
    else:
        missing.append("titanic")
    penguins = _arff("id_42585/data-v1-dl-21854866.arff.gz")
    if penguins is not None:
        labels = pd.factorize(penguins["species"])[0]
        frame = penguins.drop(columns=["species"]).copy()
        frame["sex"] = frame["sex"].where(frame["sex"].isin(["MALE", "FEMALE"]))
        pools.append(Pool("penguins", _categorical(frame, ["island", "sex"]), labels, True))
    else:
        missing.append("penguins")
    cpu = _arff("id_561/data-v1-dl-52739.arff.gz")
    if cpu is not None:
        labels = _median_split(cpu["class"].to_numpy(np.float64))
        frame = _categorical(cpu.drop(columns=["class"]).copy(), ["vendor"])
        pools.append(Pool("cpu", frame, labels, True))
    else:
        missing.append("cpu")
    glass = _arff("id_40675/data-v1-dl-4965250.arff.gz")
    if glass is not None:
        labels = pd.factorize(glass["class"])[0]
        pools.append(Pool("glass2", glass.drop(columns=["class"]).astype(np.float64), labels, True))
    else:
        missing.append("glass2")
    chess = _arff("id_3/data-v1-dl-3.arff.gz")
    if chess is not None:
        labels = pd.factorize(chess["class"])[0]
        frame = chess.drop(columns=["class"]).copy()
        pools.append(Pool("kr-vs-kp", _categorical(frame, list(frame.columns)), labels, True))
    else:
        missing.append("kr-vs-kp")
    if missing:
        notes.append(f"not installed with this scikit-learn: {', '.join(missing)}")
    return pools, notes


# ----------------------------------------------------------------------------- sampling


@dataclass
class Cell:
    """One reference and the rows its batches come from."""

    rule: str  # "disjoint" or "iid"
    reference: pd.DataFrame
    source: np.ndarray  # pool rows the batches may use


def draw_cell(pool: Pool, n_ref: int, batch_max: int, rng: np.random.Generator) -> Cell:
    """A reference of ``n_ref`` rows under the cell's rule (see the module docstring)."""
    if pool.rows >= n_ref + DISJOINT_BATCH_FACTOR * batch_max:
        order = rng.permutation(pool.rows)
        reference = pool.frame.iloc[order[:n_ref]].reset_index(drop=True)
        return Cell("disjoint", reference, order[n_ref:])
    rows = rng.integers(0, pool.rows, size=n_ref)
    return Cell("iid", jittered(pool, rows, rng), np.arange(pool.rows))


def jittered(pool: Pool, rows: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """The pool's rows, numeric columns with many values jittered within half a gap."""
    frame = pool.frame.iloc[rows].reset_index(drop=True)
    for name, width in pool.jitter.items():
        frame[name] = frame[name].to_numpy() + rng.uniform(-width, width, size=len(frame))
    return frame


def _take(
    pool: Pool, cell: Cell, eligible: np.ndarray, size: int, rng: np.random.Generator
) -> pd.DataFrame:
    if cell.rule == "disjoint":
        return pool.frame.iloc[rng.choice(eligible, size=size, replace=False)].reset_index(
            drop=True
        )
    return jittered(pool, rng.choice(eligible, size=size, replace=True), rng)


# ----------------------------------------------------------------------------- scenarios

Batch = tuple[pd.DataFrame, str | None]  # the batch, and the column that moved (if one did)
Scenario = Callable[[Pool, Cell, int, np.random.Generator], Batch | None]


def clean(pool: Pool, cell: Cell, size: int, rng: np.random.Generator) -> Batch:
    return _take(pool, cell, cell.source, size, rng), None


def _selectable(pool: Pool) -> list[tuple[str, np.ndarray]]:
    """(column, mask of the selected rows) for every usable subpopulation of the pool.

    Numeric: rows above the column's median, when that is 25-50% of the pool. Categorical:
    rows in the column's most common category, when that is 25-80% of the pool.
    """
    out = []
    for name in pool.numeric:
        values = pool.frame[name].to_numpy(np.float64)
        mask = values > np.nanmedian(values)
        if 0.25 <= mask.mean() <= 0.5:
            out.append((name, mask))
    for name in pool.categorical:
        column = pool.frame[name]
        top = column.value_counts().index[0]
        mask = (column == top).to_numpy()
        if 0.25 <= mask.mean() <= 0.8:
            out.append((name, mask))
    return out


def subpopulation(pool: Pool, cell: Cell, size: int, rng: np.random.Generator) -> Batch | None:
    """Only rows selected on one feature (e.g. only large tumours)."""
    options = _selectable(pool)
    if not options:
        return None
    name, mask = options[int(rng.integers(len(options)))]
    eligible = cell.source[mask[cell.source]]
    if cell.rule == "disjoint" and eligible.size < size:
        return None
    return _take(pool, cell, eligible, size, rng), name


def rare_class_shares(pool: Pool) -> tuple[float, float]:
    """(the rarest class's share of the pool, its share in a class-mix batch)."""
    _, counts = np.unique(pool.labels, return_counts=True)
    base = counts.min() / counts.sum()
    return float(base), float(min(2 * base, 0.9))


def class_mix(pool: Pool, cell: Cell, size: int, rng: np.random.Generator) -> Batch | None:
    """The rarest class's share doubles (capped at 90%); each row is of that class with that
    probability (so the count is binomial), the other classes fill the rest."""
    classes, counts = np.unique(pool.labels, return_counts=True)
    rare = classes[np.argmin(counts)]
    _, share = rare_class_shares(pool)
    n_rare = int(rng.binomial(size, share))
    labels = pool.labels[cell.source]
    rare_rows, other_rows = cell.source[labels == rare], cell.source[labels != rare]
    if cell.rule == "disjoint" and (rare_rows.size < n_rare or other_rows.size < size - n_rare):
        return None
    parts = [
        _take(pool, cell, rare_rows, n_rare, rng),
        _take(pool, cell, other_rows, size - n_rare, rng),
    ]
    return pd.concat(parts, ignore_index=True), None


def moved(sd_share: float) -> Scenario:
    """One numeric column (chosen at random) moved by ``sd_share`` pool standard deviations."""

    def scenario(pool: Pool, cell: Cell, size: int, rng: np.random.Generator) -> Batch | None:
        movable = [c for c in pool.numeric if pool.sd[c] > 0]
        if not movable:
            return None
        batch, _ = clean(pool, cell, size, rng)
        name = movable[int(rng.integers(len(movable)))]
        batch[name] = batch[name] + sd_share * pool.sd[name]
        return batch, name

    return scenario


SCENARIOS: dict[str, Scenario] = {
    "clean": clean,
    "subpopulation": subpopulation,
    "class mix": class_mix,
    "moved 0.5 sd": moved(0.5),
    "moved 0.2 sd": moved(0.2),
    "moved 0.1 sd": moved(0.1),
    "moved 0.02 sd": moved(0.02),
}
REAL = ("subpopulation", "class mix", "moved 0.5 sd")
SUBTLE = ("moved 0.1 sd", "moved 0.2 sd")
TRIVIAL = ("moved 0.02 sd",)
SHIFT_SD = {"moved 0.5 sd": 0.5, "moved 0.2 sd": 0.2, "moved 0.1 sd": 0.1, "moved 0.02 sd": 0.02}
