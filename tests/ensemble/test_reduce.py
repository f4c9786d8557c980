"""Streaming moments and the block jackknife against direct computations and known errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ensemble.analysis.reduce import BlockMoments, Jackknife, Moments, NonFiniteSample, jackknife, leave_one_out_means, welford
from ensemble.analysis.tables import merge_blocks


def blocks_of(x: np.ndarray, sizes: list[int], first: int = 0) -> BlockMoments:
    edges = np.cumsum([0, *sizes])
    return BlockMoments.from_samples(first, ([{"x": x[i]} for i in range(a, b)] for a, b in zip(edges[:-1], edges[1:])))


def test_welford_and_chan_equal_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(1000, 4, 3))
    b = blocks_of(x, [100, 250, 7, 643])
    total = merge_blocks([b])["x"]
    assert total.n == 1000
    np.testing.assert_allclose(total.mean, x.mean(axis=0), rtol=1e-13, atol=0)
    np.testing.assert_allclose(total.m2, ((x - x.mean(axis=0)) ** 2).sum(axis=0), rtol=1e-11)
    np.testing.assert_allclose(total.sem, x.std(axis=0, ddof=1) / math.sqrt(1000), rtol=1e-11)


def test_merge_is_independent_of_how_blocks_are_grouped_into_chunks():
    x = np.random.default_rng(1).normal(size=(90, 5))
    whole = merge_blocks([blocks_of(x, [10] * 9)])["x"]
    parts = merge_blocks([blocks_of(x[:30], [10] * 3), blocks_of(x[30:], [10] * 6, first=3)])["x"]
    assert whole.n == parts.n
    assert np.array_equal(whole.mean, parts.mean) and np.array_equal(whole.m2, parts.m2)


def test_moments_of_fewer_than_two_samples_have_no_error():
    m = Moments.zeros(3)
    m.push(np.ones(3))
    assert np.all(np.isnan(m.sem))


def brute_force_jackknife(x: np.ndarray, sizes: list[int], f) -> float:
    """Busing et al. (1999) delete-m_j jackknife written out directly from the samples."""
    edges = np.cumsum([0, *sizes])
    n, g = x.shape[0], len(sizes)
    full = f(x.mean(axis=0))
    loo = np.array([f(np.delete(x, np.s_[a:b], axis=0).mean(axis=0)) for a, b in zip(edges[:-1], edges[1:])])
    m = np.array(sizes, dtype=float)
    h = n / m
    theta_j = g * full - np.sum((1 - m / n) * loo)
    pseudo = h * full - (h - 1) * loo
    return math.sqrt(np.sum((pseudo - theta_j) ** 2 / (h - 1)) / g)


def ratio(mean):
    return mean[..., 0] / mean[..., 1]


def test_unequal_block_jackknife_matches_direct_formula():
    rng = np.random.default_rng(2)
    x = rng.normal([1.0, 2.0], 0.3, size=(97, 2))
    sizes = [10] * 9 + [7]
    b = blocks_of(x, sizes)
    total = merge_blocks([b])
    _, sem = jackknife(lambda m: {"r": ratio(m["x"])}, total, [b])
    assert sem["r"] == pytest.approx(brute_force_jackknife(x, sizes, ratio), rel=1e-10)


def test_equal_blocks_reduce_to_the_textbook_formula():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 2)) + [4.0, 5.0]
    b = blocks_of(x, [6] * 10)
    total = merge_blocks([b])
    loo = ratio(leave_one_out_means(total, b)["x"])
    textbook = math.sqrt(9 / 10 * np.sum((loo - loo.mean()) ** 2))
    _, sem = jackknife(lambda m: {"r": ratio(m["x"])}, total, [b])
    assert sem["r"] == pytest.approx(textbook, rel=1e-12)


def test_single_block_gives_nan_error():
    jk = Jackknife({"a": np.array(1.0)}, n=10)
    jk.add(np.array([10]), {"a": np.array([np.nan])})
    assert np.isnan(jk.sem()["a"])


# -- statistics: a nonlinear function of Gaussian samples with a known error ---------------------

MU = np.array([2.0, 3.0])
COV = np.array([[1.0, 0.8], [0.8, 1.0]])  # strongly correlated numerator and denominator
N, G, REPEATS = 2000, 100, 400


def analytic_sem_of_ratio() -> float:
    """Delta method for x/y with correlated x, y: grad . Cov . grad / N."""
    grad = np.array([1 / MU[1], -MU[0] / MU[1] ** 2])
    return math.sqrt(grad @ COV @ grad / N)


def naive_uncorrelated_sem_of_ratio(mean, sem) -> float:
    """Error propagation that ignores the covariance of numerator and denominator (wrong here)."""
    r = mean[0] / mean[1]
    return abs(r) * math.sqrt((sem[0] / mean[0]) ** 2 + (sem[1] / mean[1]) ** 2)


@pytest.fixture(scope="module")
def repeated_experiments():
    rng = np.random.default_rng(4)
    jack, naive, estimates = [], [], []
    for _ in range(REPEATS):
        x = rng.multivariate_normal(MU, COV, size=N)
        b = blocks_of(x, [N // G] * G)
        total = merge_blocks([b])
        value, sem = jackknife(lambda m: {"r": ratio(m["x"])}, total, [b])
        jack.append(float(sem["r"]))
        naive.append(naive_uncorrelated_sem_of_ratio(total["x"].mean, total["x"].sem))
        estimates.append(float(value["r"]))
    return np.array(jack), np.array(naive), np.array(estimates)


def rms_within(errors: np.ndarray, target: float, rel: float) -> bool:
    return abs(math.sqrt(np.mean(errors**2)) / target - 1) < rel


def test_jackknife_error_of_a_ratio_matches_the_analytic_error(repeated_experiments):
    jack, _, estimates = repeated_experiments
    target = analytic_sem_of_ratio()
    # Mean jackknife variance over 400 experiments: its own scatter is ~0.7%.
    assert rms_within(jack, target, rel=0.03)
    # And it describes the actual scatter of the estimate (scatter of this check ~3.5%).
    assert abs(estimates.std(ddof=1) / target - 1) < 0.12


def test_negative_control_uncorrelated_propagation_fails_the_same_check(repeated_experiments):
    _, naive, _ = repeated_experiments
    assert not rms_within(naive, analytic_sem_of_ratio(), rel=0.03)


@pytest.mark.parametrize("shape", [(), (3,), (4, 5)])
@pytest.mark.parametrize("m", [1, 63, 64, 65, 200])
def test_compiled_welford_has_the_bits_of_one_push_per_sample(shape, m):
    """The chunked, compiled pass must equal Moments.push sample by sample bit for bit (older partials stay valid)."""
    rng = np.random.default_rng(m)
    samples = [{"a": rng.normal(size=shape) * 10 ** rng.uniform(-3, 3) + 1e3 * rng.normal(), "b": rng.integers(0, 5, size=shape)}
               for _ in range(m)]  # fmt: skip
    slow = {k: Moments.zeros(shape) for k in ("a", "b")}
    for s in samples:
        for k, v in s.items():
            slow[k].push(np.asarray(v, dtype=float))
    fast = welford(iter(samples))
    for k in slow:
        assert fast[k].n == slow[k].n == m
        assert fast[k].mean.tobytes() == slow[k].mean.tobytes() and fast[k].m2.tobytes() == slow[k].m2.tobytes()


def test_welford_reports_the_first_non_finite_sample_even_when_a_later_one_raises():
    samples = [{"a": np.ones(2)} for _ in range(70)]
    samples[66] = {"a": np.array([1.0, np.inf])}
    with pytest.raises(NonFiniteSample) as e:
        welford(iter(samples))
    assert (e.value.position, e.value.names) == (66, ["a"])

    def failing():
        yield {"a": np.ones(2), "b": 1.0}
        yield {"a": np.ones(2), "b": np.nan}
        raise RuntimeError("kernel failed at sample 2")

    with pytest.raises(NonFiniteSample) as e:
        welford(failing())
    assert (e.value.position, e.value.names) == (1, ["b"])
    assert isinstance(e.value.__context__, RuntimeError)  # the later failure is kept as context


def test_welford_refuses_samples_with_other_observables():
    with pytest.raises(ValueError, match="sample 1 has observables"):
        welford(iter([{"a": 1.0, "b": 2.0}, {"a": 1.0}]))
