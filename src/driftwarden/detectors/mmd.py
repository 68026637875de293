"""Multivariate drift: maximum mean discrepancy with an RBF kernel and a permutation test.

Catches joint shifts (a changed correlation) that per-column tests cannot see. Needs the
optional ``torch`` extra; runs on CUDA when available. Rows are subsampled to at most
``max_samples`` per side, so cost is bounded whatever the batch size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from driftwarden.config.model import MmdConfig
from driftwarden.detectors.base import MultivariateResult
from driftwarden.errors import OptionalDependencyMissing


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # also when sys.modules["torch"] is None
        raise OptionalDependencyMissing("torch", "The MMD detector") from None
    return torch


def _device(torch: Any, wanted: str) -> Any:
    if wanted == "cuda" or (wanted == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def _rows(values: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    if values.shape[0] <= limit:
        return values
    return values[rng.choice(values.shape[0], size=limit, replace=False)]


def mmd_test(
    reference: np.ndarray, current: np.ndarray, features: list[str], cfg: MmdConfig, alpha: float
) -> MultivariateResult:
    """MMD² (biased estimate) between two row sets, with a permutation p-value.

    Args:
        reference: 2-D array, one row per sample, columns in ``features`` order.
        current: the same columns for the current batch.
        features: column names (reported).
        cfg: subsampling bound, permutations, device, seed.
        alpha: drifted when the p-value is below this.

    Raises:
        OptionalDependencyMissing: when torch is not installed.
    """
    torch = _torch()
    rng = np.random.default_rng(cfg.seed)
    ref = reference[np.isfinite(reference).all(axis=1)]
    cur = current[np.isfinite(current).all(axis=1)]
    result = MultivariateResult("mmd", features, method="permutation")
    if ref.shape[0] < 2 or cur.shape[0] < 2 or not features:
        result.error = "needs at least 2 complete rows on each side and one numeric column"
        return result
    ref = _rows(ref, cfg.max_samples, rng)
    cur = _rows(cur, cfg.max_samples, rng)
    # Standardise with the reference's spread so no column dominates the kernel.
    mean = ref.mean(axis=0)
    std = ref.std(axis=0)
    std[std == 0] = 1.0
    device = _device(torch, cfg.device)
    pooled = torch.as_tensor(
        np.vstack([(ref - mean) / std, (cur - mean) / std]), dtype=torch.float32, device=device
    )
    n, m = ref.shape[0], cur.shape[0]
    squared = torch.cdist(pooled, pooled).pow(2)
    off_diagonal = squared[~torch.eye(n + m, dtype=torch.bool, device=device)]
    median = float(off_diagonal.median())
    bandwidth = median if median > 0 else 1.0  # median heuristic: 2σ² = median squared distance
    kernel = torch.exp(-squared / bandwidth)
    generator = torch.Generator(device="cpu").manual_seed(cfg.seed)
    signs = torch.empty((cfg.permutations + 1, n + m), dtype=torch.float32)
    signs[0, :n], signs[0, n:] = 1.0 / n, -1.0 / m
    for i in range(1, cfg.permutations + 1):
        signs[i] = signs[0][torch.randperm(n + m, generator=generator)]
    signs = signs.to(device)
    stats = ((signs @ kernel) * signs).sum(dim=1).cpu().numpy().astype(np.float64)
    observed = float(stats[0])
    p_value = float((1 + np.sum(stats[1:] >= observed)) / (1 + cfg.permutations))
    result.statistic = observed
    result.p_value = p_value
    result.drifted = p_value < alpha
    result.n_reference, result.n_current = n, m
    result.details = {
        "device": str(device),
        "bandwidth": bandwidth,
        "permutations": cfg.permutations,
    }
    return result
