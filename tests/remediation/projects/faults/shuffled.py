"""Shuffle the target column of the assembled training set, then train the example model on it.

Runs inside the run that ``mlflow run`` created (MLFLOW_RUN_ID), like the example project.
The shuffled copy is written beside the input (the cycle's work directory), never here.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "model_project" / "train.py"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-path", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    source = Path(args.data_path)
    frame = pd.read_csv(source)
    frame["target"] = np.random.default_rng(args.seed).permutation(frame["target"].to_numpy())
    shuffled = source.with_name(source.stem + ".shuffled.csv")
    frame.to_csv(shuffled, index=False)
    spec = importlib.util.spec_from_file_location("example_train", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--data-path", str(shuffled), "--seed", str(args.seed)])


if __name__ == "__main__":
    main()
