"""Calibrated class probabilities: isotonic regression per class (one-vs-rest), optionally weighted.

A model's scores are rarely probabilities (a random forest's are too timid, a boosted
model's too bold), and CBPE is only as good as its probabilities: it counts a row predicted
``k`` as correct with probability ``P(y = k | score)``. Isotonic regression fitted on a
labelled evaluation set the model did not train on learns that map without assuming its
shape. Sample weights let the map describe another population (importance weighting).

Each isotonic level is the share of positives among the rows it pools; a level pooling
40 rows that were all correct says 1.0, which would make the batch's errors impossible.
Levels are therefore smoothed with one pseudo-row at the class's base rate,
``(positives + rate) / (rows + 1)``: a pool of 40 correct rows says about 0.99.
"""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold


class SmoothedIsotonic:
    """Isotonic regression whose levels are pulled towards the base rate by one pseudo-row."""

    def __init__(self, scores: np.ndarray, hits: np.ndarray, weights: np.ndarray | None) -> None:
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(scores, hits, sample_weight=weights)
        fitted = iso.predict(scores)
        w = np.ones_like(hits) if weights is None else weights
        rate = float(np.dot(w, hits) / w.sum())
        levels = np.asarray(iso.y_thresholds_, dtype=np.float64)
        smoothed = levels.copy()
        for level in np.unique(levels):
            rows = float(w[np.isclose(fitted, level)].sum())
            smoothed[levels == level] = (level * rows + rate) / (rows + 1.0)
        self._x = np.asarray(iso.X_thresholds_, dtype=np.float64)
        self._y = smoothed

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return np.interp(scores, self._x, self._y)


class OneVsRestCalibrator:
    """Isotonic ``P(y = k | score_k)`` per class, renormalised across classes.

    With two classes one map is fitted (on the larger label's score) and the other class
    gets the complement, so the two stay consistent.
    """

    def __init__(self) -> None:
        self._maps: list[SmoothedIsotonic | None] = []
        self._binary = False

    def fit(
        self, proba: np.ndarray, truth: np.ndarray, weights: np.ndarray | None = None
    ) -> OneVsRestCalibrator:
        """Fit on (rows, K) scores and the true class index of each row."""
        k = proba.shape[1]
        self._binary = k == 2
        self._maps = []
        targets = [1] if self._binary else range(k)
        for j in targets:
            hit = (truth == j).astype(np.float64)
            if hit.min() == hit.max():  # one outcome only: nothing to learn, keep the scores
                self._maps.append(None)
                continue
            self._maps.append(SmoothedIsotonic(proba[:, j], hit, weights))
        return self

    def predict(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated (rows, K) probabilities; rows sum to 1."""
        if self._binary:
            iso = self._maps[0]
            positive = proba[:, 1] if iso is None else iso.predict(proba[:, 1])
            return np.column_stack([1.0 - positive, positive])
        out = np.column_stack(
            [
                proba[:, j] if iso is None else iso.predict(proba[:, j])
                for j, iso in enumerate(self._maps)
            ]
        )
        totals = out.sum(axis=1)
        empty = totals <= 1e-12
        out[empty] = proba[empty]  # every map said 0: fall back to the model's own scores
        totals[empty] = out[empty].sum(axis=1)
        return np.asarray(out / totals[:, None])


def cross_fitted(
    proba: np.ndarray, truth: np.ndarray, weights: np.ndarray | None, folds: int, seed: int
) -> np.ndarray:
    """Out-of-fold calibrated probabilities of the evaluation rows themselves.

    Isotonic regression is exactly calibrated on the rows it was fitted on, so its residuals
    there are zero by construction; scored out of fold they show what it gets wrong.
    """
    n = proba.shape[0]
    out = np.empty_like(proba)
    counts = np.bincount(truth, minlength=proba.shape[1])
    splits = min(folds, int(counts[counts > 0].min()), n) if n else 0
    if splits < 2:  # a class with a single row: plain K-fold on row order
        index = np.arange(n)
        parts = [(np.setdiff1d(index, f), f) for f in np.array_split(index, max(min(folds, n), 2))]
    else:
        parts = list(StratifiedKFold(splits, shuffle=True, random_state=seed).split(proba, truth))
    for train, test in parts:
        if test.size == 0:
            continue
        w = None if weights is None else weights[train]
        out[test] = OneVsRestCalibrator().fit(proba[train], truth[train], w).predict(proba[test])
    return out
