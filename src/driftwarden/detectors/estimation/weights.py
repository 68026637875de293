"""Importance weights for the evaluation rows: how much more likely each is in the new batch.

A classifier learns to tell evaluation rows from batch rows; its odds for an evaluation row
estimate the density ratio ``p_batch(x) / p_eval(x)``. Weighting the evaluation set by it
makes the evaluation set look like the batch, so a calibration map (or a loss model)
fitted under these weights holds on the batch even when the features moved. Predictions
for evaluation rows are out of fold, so a row's weight never comes from a model that saw it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import mannwhitneyu
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold

from driftwarden.detectors.estimation.threads import one_thread

# Domain probabilities are clipped here, so no single row's odds exceed 19.
_CLIP = 0.05
# The domain classifier's evaluation-vs-batch separation must be this significant
# (Mann-Whitney on out-of-fold scores) before any weighting; otherwise all weights are 1.
SHIFT_P_VALUE = 0.01
# Rows per side used to fit the domain classifier (more only costs time).
MAX_FIT_ROWS = 5000


@dataclass(frozen=True)
class DomainWeights:
    """Weights of the evaluation rows (mean 1) and how clearly the batch differs.

    Attributes:
        weights: one per evaluation row, mean 1 (all 1 when no shift was found).
        auc: out-of-fold AUC of telling batch rows from evaluation rows (0.5: no difference).
        p_value: Mann-Whitney p-value of that separation.
        effective_rows: Kish's effective sample size of the weighted evaluation set.
        applied: False when the separation was not significant and the weights are all 1.
    """

    weights: np.ndarray
    auc: float
    p_value: float
    effective_rows: float
    applied: bool


def uniform(n: int) -> DomainWeights:
    """No weighting (plain CBPE / DLE)."""
    return DomainWeights(np.ones(n), 0.5, 1.0, float(n), False)


def _classifier(seed: int) -> HistGradientBoostingClassifier:
    # Small, regularised trees: a shift on one feature is one split; more would learn noise.
    return HistGradientBoostingClassifier(
        max_iter=30,
        learning_rate=0.2,
        max_leaf_nodes=8,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )


def domain_weights(
    reference: np.ndarray, current: np.ndarray, seed: int = 0, folds: int = 3
) -> DomainWeights:
    """Importance weights for ``reference`` rows towards the ``current`` batch.

    Args:
        reference: (n_ref, d) encoded features (and model outputs) of the evaluation rows;
            NaN is allowed.
        current: (n_cur, d) the same columns for the batch.
        seed: fold split and classifier seed (results are reproducible).
        folds: cross-fitting folds.
    """
    n_ref, n_cur = reference.shape[0], current.shape[0]
    if n_ref < 2 * folds or n_cur < 2 * folds or reference.shape[1] == 0:
        return uniform(n_ref)
    rng = np.random.default_rng(seed)
    ref_fit = _subsample(n_ref, rng)
    cur_fit = _subsample(n_cur, rng)
    x = np.vstack([reference[ref_fit], current[cur_fit]])
    y = np.concatenate([np.zeros(ref_fit.size), np.ones(cur_fit.size)])
    oof = np.empty(y.size)
    models = []
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    with one_thread():
        for train, test in splitter.split(x, y):
            model = _classifier(seed).fit(x[train], y[train])
            oof[test] = model.predict_proba(x[test])[:, 1]
            models.append(model)
    ref_scores, cur_scores = oof[y == 0], oof[y == 1]
    test = mannwhitneyu(cur_scores, ref_scores, alternative="greater")
    auc = float(test.statistic) / (ref_scores.size * cur_scores.size)
    p_value = float(test.pvalue)
    if p_value >= SHIFT_P_VALUE:
        return DomainWeights(np.ones(n_ref), auc, p_value, float(n_ref), False)
    prob = np.empty(n_ref)
    prob[ref_fit] = ref_scores
    rest = np.setdiff1d(np.arange(n_ref), ref_fit)
    if rest.size:  # rows left out of the fit: every fold model is out of fold for them
        with one_thread():
            prob[rest] = np.mean([m.predict_proba(reference[rest])[:, 1] for m in models], axis=0)
    prob = np.clip(prob, _CLIP, 1.0 - _CLIP)
    # The odds times the fitted sizes' ratio is the density ratio p_batch(x) / p_eval(x).
    # (No class weights: scikit-learn bins weighted samples with a slow weighted percentile.)
    weights = prob / (1.0 - prob) * (ref_fit.size / cur_fit.size)
    weights = weights / weights.mean()
    effective = float(weights.sum() ** 2 / np.sum(weights**2))
    return DomainWeights(weights, auc, p_value, effective, True)


def _subsample(n: int, rng: np.random.Generator) -> np.ndarray:
    if n <= MAX_FIT_ROWS:
        return np.arange(n)
    return np.sort(rng.choice(n, MAX_FIT_ROWS, replace=False))
