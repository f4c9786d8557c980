"""Physics through the whole engine (spec -> seeding -> tasks -> reductions -> summary table).

At W = 0 every realization has the same (zero) fields, so the average over
realizations is the noise average alone, which the exact dephasing channel
gives (see tests/kernels). The table's means must agree within 4 of its
standard errors at every (t, site); the paper's printed rate gamma^2 must not.
"""

from __future__ import annotations

import numpy as np
import pytest

from ensemble import MemoryStore, parse_spec, execute
from kernels.front import anderson_trajectory as k
from tests.references import exact_channel, max_deviation_in_sigma

SPEC = """
kernel = "anderson_trajectory"
seed = 314
realizations = {n}
batch_size = 50
[params]
L = {L}
W = 0.0
gamma = {gamma}
[times]
values = [0.5, 1.0, 2.5, 5.0, 10.0{more}]
[fit]
min_start = 1.0
min_points = 4
"""


def table_vs_channel(n: int, L: int, gamma: float, more: str = ""):
    exp = parse_spec(SPEC.format(n=n, L=L, gamma=gamma, more=more))
    s = execute(exp, MemoryStore()).tables["summary"]
    rows = s[s.observable == "Szg"].sort_values(["t", "site"])
    T = len(exp.points[0].params.times)
    mean, sem = rows["mean"].to_numpy().reshape(T, L), rows["sem"].to_numpy().reshape(T, L)
    p = exp.points[0].params
    h = np.zeros(L)
    return mean, sem, exact_channel(p, h, gamma**2 / 2), exact_channel(p, h, gamma**2)


def test_engine_average_equals_exact_dephasing_channel():
    mean, sem, right, wrong = table_vs_channel(n=400, L=8, gamma=1.0)
    assert max_deviation_in_sigma(mean, sem, right) < 4.0
    assert max_deviation_in_sigma(mean, sem, wrong) > 4.0


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
def test_engine_average_equals_exact_channel_long_times(gamma):
    mean, sem, right, wrong = table_vs_channel(n=4000, L=10, gamma=gamma, more=", 20.0, 40.0")
    assert max_deviation_in_sigma(mean, sem, right) < 4.5
    assert max_deviation_in_sigma(mean, sem, wrong) > 4.5


def test_reference_copy_is_noise_free_at_W0():
    """gamma does not enter the reference: its sem is zero and it equals the clean evolution."""
    exp = parse_spec(SPEC.format(n=20, L=8, gamma=1.0, more=""))
    s = execute(exp, MemoryStore()).tables["summary"]
    sz0 = s[s.observable == "Sz0"].sort_values(["t", "site"])
    p = exp.points[0].params
    clean = k.realize(p, k.Draws(h=np.zeros(8), eta=np.zeros(p.steps[-1])))["Sz0"]
    np.testing.assert_allclose(sz0["mean"].to_numpy().reshape(clean.shape), clean, atol=1e-12)
    assert sz0["sem"].max() < 1e-12


# -- disorder averages: trajectories against the exact noise average, both through the engine ----------

DISORDER = """
kernel = "{kernel}"
seed = {seed}
realizations = {n}
batch_size = 50
[params]
L = 6
W = 2.0
gamma = {gamma}
{extra}
[times]
values = [0.5, 2.0, 5.0, 10.0]
[fit]
min_start = 0.5
min_points = 4
"""


def disorder_average(kernel: str, gamma: float, n: int, seed: int, extra: str = ""):
    exp = parse_spec(DISORDER.format(kernel=kernel, gamma=gamma, n=n, seed=seed, extra=extra))
    s = execute(exp, MemoryStore()).tables["summary"]
    rows = s[s.observable == "Szg"].sort_values(["t", "site"])
    return rows["mean"].to_numpy(), rows["sem"].to_numpy()


@pytest.fixture(scope="module")
def trajectory_disorder_average():
    return disorder_average("xxz_trajectory", 1.0, 400, seed=1)


def max_combined_sigma(a, b) -> float:
    return float(np.max(np.abs(a[0] - b[0]) / np.sqrt(a[1] ** 2 + b[1] ** 2)))


def test_disorder_averaged_trajectories_equal_disorder_averaged_exact_channel(trajectory_disorder_average):
    exact = disorder_average("xxz_exact", 1.0, 400, seed=2, extra="lindblad = false")
    assert max_combined_sigma(trajectory_disorder_average, exact) < 4.0


def test_jump_unraveling_through_the_engine_equals_the_exact_channel():
    """unraveling = "jumps" from a spec: same disorder-averaged channel, same negative control."""
    jumps = disorder_average("xxz_trajectory", 1.0, 400, seed=3, extra='unraveling = "jumps"')
    exact = disorder_average("xxz_exact", 1.0, 400, seed=2, extra="lindblad = false")
    wrong = disorder_average("xxz_exact", 2**0.5, 400, seed=2, extra="lindblad = false")
    assert max_combined_sigma(jumps, exact) < 4.0
    assert max_combined_sigma(jumps, wrong) > 4.0


def test_negative_control_channel_with_the_papers_rate(trajectory_disorder_average):
    # gamma = sqrt(2) gives the channel rate gamma^2/2 = 1 = the gamma^2 printed in Eq. (2) for gamma = 1
    wrong = disorder_average("xxz_exact", 2**0.5, 400, seed=2, extra="lindblad = false")
    assert max_combined_sigma(trajectory_disorder_average, wrong) > 4.0
