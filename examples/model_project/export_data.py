"""Export scikit-learn's bundled breast-cancer data to the CSV this example trains on.

The data ships inside scikit-learn (no download). Column names are made identifier-safe
(``mean radius`` -> ``mean_radius``) so they work as MLflow metric keys and in filters; the
label is the ``target`` column (0 = malignant, 1 = benign). Run it again to reproduce the
committed ``data/breast_cancer.csv`` byte for byte:

    python export_data.py [--out data/breast_cancer.csv]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd
from sklearn.datasets import load_breast_cancer

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "data" / "breast_cancer.csv"
TARGET = "target"


def identifier(name: str) -> str:
    """``mean radius`` -> ``mean_radius``: lower case, runs of other characters become ``_``."""
    return re.sub(r"[^0-9a-zA-Z]+", "_", name.strip()).strip("_").lower()


def breast_cancer_frame() -> pd.DataFrame:
    """The 569 x 30 features plus the ``target`` column, with identifier-safe names."""
    bunch = load_breast_cancer(as_frame=True)
    frame: pd.DataFrame = bunch.frame.copy()
    frame.columns = [identifier(str(c)) for c in frame.columns]
    if frame.columns.duplicated().any():  # pragma: no cover - guards the renaming rule
        raise ValueError(f"renaming produced duplicate columns: {list(frame.columns)}")
    frame[TARGET] = frame[TARGET].astype("int64")
    return frame


def export(out: Path = DEFAULT_OUT) -> Path:
    """Write the CSV (LF line endings, no index) and return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    breast_cancer_frame().to_csv(out, index=False, lineterminator="\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write")
    args = parser.parse_args(argv)
    path = export(args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
