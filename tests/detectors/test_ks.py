"""KS against scipy.stats.ks_2samp as the oracle: statistic identical, p-value within 1e-10."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.stats import ks_2samp

from driftwarden.detectors import ks
from driftwarden.detectors.ks import ks_p_value, ks_sorted, make_fence
from tests.support.hypothesis_profiles import examples


def _scipy(a: np.ndarray, b: np.ndarray) -> tuple[float, float, str]:
    """scipy's statistic, p-value and the method it used: ``auto`` picks exact up to 10,000
    values and switches to asymp (with a RuntimeWarning) when the exact sum fails."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        result = ks_2samp(a, b)
    switched = any("Switching to method=asymp" in str(w.message) for w in caught)
    method = "exact" if max(a.size, b.size) <= 10_000 and not switched else "asymp"
    return float(result.statistic), float(result.pvalue), method


def _assert_matches(a: np.ndarray, b: np.ndarray) -> None:
    ref = np.sort(a)
    outcome = ks_sorted(ref, np.sort(b))
    statistic, p_value, method = _scipy(a, b)
    assert outcome.statistic == statistic
    fenced = make_fence(ref)  # the prepared form for large references
    assert ks_sorted(ref, np.sort(b), fenced) == outcome
    assert abs(outcome.p_value - p_value) <= 1e-10
    assert outcome.method == method


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
small_ints = st.integers(-3, 3).map(float)
samples = st.lists(st.one_of(finite, small_ints), min_size=1, max_size=60)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples, samples)
def test_matches_scipy_on_arbitrary_samples(a: list[float], b: list[float]) -> None:
    """Ties, duplicates, samples of one, huge value ranges (any finite float)."""
    _assert_matches(np.array(a), np.array(b))


@settings(max_examples=examples(40), deadline=None)
@given(
    st.integers(1, 3000),
    st.integers(1, 3000),
    st.sampled_from(["normal", "ties", "shifted", "constant"]),
    st.integers(0, 2**32 - 1),
)
def test_matches_scipy_on_larger_samples(n: int, m: int, kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    if kind == "normal":
        a, b = rng.normal(size=n), rng.normal(size=m)
    elif kind == "ties":
        a, b = rng.integers(0, 6, n).astype(float), rng.integers(0, 7, m).astype(float)
    elif kind == "shifted":
        a, b = rng.normal(size=n), rng.normal(0.2, size=m)
    else:
        a, b = np.full(n, 3.0), np.full(m, 3.0)
    _assert_matches(a, b)


@pytest.mark.parametrize(
    ("n", "m", "shift"),
    [
        (12_000, 9_000, 0.0),  # asymp: ordinary p
        (30_000, 20_000, 0.03),  # asymp, the smirnov branch (p between 1e-10 and 0.02)
        (30_000, 20_000, 0.2),  # asymp, tiny p (DKW shortcut)
        (10_000, 10_000, 0.02),  # largest exact case
        (200_000, 20_000, 0.0),  # coarse-to-fine search for the supremum
        (200_000, 20_000, 0.01),
    ],
)
def test_matches_scipy_on_large_samples(n: int, m: int, shift: float) -> None:
    rng = np.random.default_rng(n + m)
    _assert_matches(rng.normal(size=n), rng.normal(shift, size=m))


@settings(max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 40_000),
    st.integers(8_193, 30_000),
    st.sampled_from(["normal", "ties", "shifted", "zero_inflated"]),
    st.integers(0, 2**32 - 1),
)
@example(10_000, 9_000, "zero_inflated", 1)  # exact p-value with the search
@example(40_000, 30_000, "ties", 2)
@example(17_642, 17_642, "normal", 0)  # equal sizes: the smirnov sum's last base is zero
def test_matches_scipy_through_the_coarse_to_fine_search(
    n: int, m: int, kind: str, seed: int
) -> None:
    """Batches above 8,192 values take the block search instead of evaluating every point."""
    rng = np.random.default_rng(seed)
    if kind == "normal":
        a, b = rng.normal(size=n), rng.normal(size=m)
    elif kind == "ties":
        a, b = rng.integers(0, 9, n).astype(float), rng.integers(0, 10, m).astype(float)
    elif kind == "shifted":
        a, b = rng.normal(size=n), rng.normal(0.05, size=m)
    else:
        a = np.where(rng.random(n) < 0.4, 0.0, rng.normal(size=n))
        b = np.where(rng.random(m) < 0.4, 0.0, rng.normal(0.02, size=m))
    _assert_matches(a, b)


def test_exact_method_is_asserted_where_scipy_uses_it() -> None:
    """The oracle helper reports exact for small samples, so a wrong switch would fail."""
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=300), rng.normal(size=200)
    assert _scipy(a, b)[2] == "exact"
    assert ks_sorted(np.sort(a), np.sort(b)).method == "exact"


def test_large_samples_with_heavy_ties() -> None:
    rng = np.random.default_rng(3)
    _assert_matches(rng.poisson(3, 300_000).astype(float), rng.poisson(3.05, 50_000).astype(float))


def test_large_zero_inflated_samples() -> None:
    """Long runs of one tied value next to continuous values (the tie pruning of the search)."""
    rng = np.random.default_rng(4)
    a = np.concatenate([rng.normal(size=60_000), np.zeros(40_000)])
    b = np.concatenate([rng.normal(0.02, size=12_000), np.zeros(9_000)])
    _assert_matches(a, b)


def test_method_is_reported_as_scipy_chooses() -> None:
    assert ks_p_value(0.1, 100, 10_000).method == "exact"
    assert ks_p_value(0.1, 100, 10_001).method == "asymp"


@settings(max_examples=examples(30), deadline=None)
@given(st.floats(0.0005, 0.05), st.integers(5_001, 400_000))
def test_fast_smirnov_branch_matches_kstwo(d: float, n: int) -> None:
    """The vectorised smirnov sum (used for large n) agrees with scipy's kstwo.sf."""
    from scipy.stats import distributions

    en = float(n)
    expected = float(np.clip(distributions.kstwo.sf(d, en), 0, 1))
    # ks_p_value rounds n1*n2/(n1+n2); with n1 = n2 = 2n that is exactly n.
    got = ks_p_value(d, 2 * n, 2 * n).p_value
    assert abs(got - expected) <= 1e-10


def test_p_value_of_equal_sizes_is_not_nan() -> None:
    """Found by hypothesis in CI: n(1-x) is an integer, so the smirnov sum's last base rounded
    below zero and its log was NaN (scipy gives 2.07e-4)."""
    from scipy.stats import distributions

    outcome = ks_p_value(0.022786532139213334, 17_642, 17_642)
    assert outcome.method == "asymp"
    assert abs(outcome.p_value - distributions.kstwo.sf(0.022786532139213334, 8821)) <= 1e-10


_GRID_SIZES = (1, 2, 7, 100, 1_000, 10_000, 10_001, 17_642, 50_000, 1_000_000)
_GRID_D = (0.0, 0.005, 0.01, 0.02, 0.022786532139213334, 0.05, 0.1, 0.25, 0.5, 1.0)


@pytest.mark.parametrize("n1", _GRID_SIZES)
def test_p_value_is_finite_and_matches_kstwo_over_a_grid(n1: int) -> None:
    """Every pair of sizes (equal sizes included) and statistic: a finite p in [0, 1], and in
    the asymptotic branch scipy's ``kstwo.sf`` of the statistic as reported."""
    from scipy.stats import distributions

    for n2 in (n for n in _GRID_SIZES if n >= n1):
        en = float(np.round(n1 * n2 / (n1 + n2)))
        for d in _GRID_D:
            outcome = ks_p_value(d, n1, n2)
            assert np.isfinite(outcome.p_value) and 0.0 <= outcome.p_value <= 1.0, (n1, n2, d)
            if outcome.method == "asymp":
                expected = float(np.clip(distributions.kstwo.sf(outcome.statistic, en), 0, 1))
                assert abs(outcome.p_value - expected) <= 1e-10, (n1, n2, d)


@pytest.fixture()
def without_private_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake fault: a scipy release without the private routines ks.py borrows."""
    from driftwarden.detectors import ks

    monkeypatch.setattr(ks, "_private", lambda: (None, None))


@pytest.mark.usefixtures("without_private_scipy")
@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples, samples)
def test_fallback_p_value_comes_from_ks_2samp(a: list[float], b: list[float]) -> None:
    _assert_matches(np.array(a), np.array(b))


@pytest.mark.usefixtures("without_private_scipy")
@pytest.mark.parametrize(("n", "m", "shift"), [(400, 300, 0.1), (12_000, 9_000, 0.02)])
def test_fallback_on_exact_and_asymp_sizes(n: int, m: int, shift: float) -> None:
    rng = np.random.default_rng(n)
    _assert_matches(rng.normal(size=n), rng.normal(shift, size=m))


def test_ks_imports_and_falls_back_when_scipy_moves_its_private_routines() -> None:
    """Import the module in a fresh interpreter where ``kolmogn`` cannot be imported (a stub
    module stands in for scipy's, after scipy itself has loaded)."""
    code = (
        "import sys\n"
        "import types\n"
        "import numpy as np\n"
        "from scipy.stats import ks_2samp\n"
        "sys.modules['scipy.stats._ksstats'] = types.ModuleType('scipy.stats._ksstats')\n"
        "from driftwarden.detectors import ks\n"
        "assert ks._private() == (None, None)\n"
        "rng = np.random.default_rng(0)\n"
        "a, b = np.sort(rng.normal(size=500)), np.sort(rng.normal(0.3, size=400))\n"
        "out = ks.ks_sorted(a, b)\n"
        "ref = ks_2samp(a, b)\n"
        "assert out.method == 'exact' and out.statistic == ref.statistic, out\n"
        "assert abs(out.p_value - ref.pvalue) <= 1e-12, out\n"
        "print('FALLBACK-OK')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "FALLBACK-OK" in proc.stdout


def test_the_search_starts_coarser_as_the_batch_grows() -> None:
    """Every ladder shrinks to single positions, and a larger batch never starts finer."""
    sizes = [8_193, 32_000, 32_001, 256_000, 256_001, 1_024_000, 1_024_001, 4_096_001, 10**8]
    ladders = [ks.search_levels(m) for m in sizes]
    for ladder in ladders:
        assert ladder[-1] == 1
        assert list(ladder) == sorted(ladder, reverse=True)
    firsts = [ladder[0] for ladder in ladders]
    assert firsts == sorted(firsts)
    assert ks.search_levels(200_000) == (64, 8, 1)


@pytest.mark.parametrize("ladder", [levels for _, levels in ks._LADDERS])
@pytest.mark.parametrize("kind", ["normal", "shifted", "ties"])
def test_every_ladder_finds_scipys_statistic(
    ladder: tuple[int, ...], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ladder changes only how fast the supremum is found: each one, forced on the same
    40,000-value batch, gives scipy's statistic."""
    monkeypatch.setattr(ks, "search_levels", lambda m: ladder)
    rng = np.random.default_rng(len(ladder))
    if kind == "ties":
        a, b = rng.poisson(8, 300_000).astype(float), rng.poisson(8.05, 40_000).astype(float)
    else:
        a, b = rng.normal(size=300_000), rng.normal(0.03 if kind == "shifted" else 0.0, size=40_000)
    _assert_matches(a, b)


@pytest.mark.parametrize(("n", "d"), [(8_821, 0.02), (17_642, 0.0158), (166_667, 0.006)])
def test_the_smirnov_sum_is_the_same_with_its_factorials_kept_or_made_per_call(
    n: int, d: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to 2M the log-factorial table is kept for the next column; past it, made per call.
    Both give scipy's kstwo.sf (2 x the one-sided sum in this branch)."""
    from scipy.stats import distributions

    kept = ks._smirnov_sf(float(n), d)
    monkeypatch.setattr(ks, "_CACHED_FACTORIALS_MAX", 0)
    assert ks._smirnov_sf(float(n), d) == kept
    assert abs(2.0 * kept - distributions.kstwo.sf(d, n)) <= 1e-10
