"""Export scikit-learn's bundled diabetes data to the CSV this example trains on.

The data ships inside scikit-learn (no download): 442 patients, 10 baseline measurements
in their original units (``scaled=False``: age in years, sex 1/2, BMI, blood pressure and
six blood serum values s1-s6), and the label ``target``, a measure of disease progression
one year later. Run it again to reproduce the committed ``data/diabetes.csv`` byte for byte:

    python export_data.py [--out data/diabetes.csv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from sklearn.datasets import load_diabetes

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "data" / "diabetes.csv"
TARGET = "target"


def diabetes_frame() -> pd.DataFrame:
    """The 442 x 10 features plus the ``target`` column, in their original units."""
    frame: pd.DataFrame = load_diabetes(as_frame=True, scaled=False).frame.copy()
    frame[TARGET] = frame[TARGET].astype("float64")
    return frame


def export(out: Path = DEFAULT_OUT) -> Path:
    """Write the CSV (LF line endings, no index) and return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    diabetes_frame().to_csv(out, index=False, lineterminator="\n")
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
