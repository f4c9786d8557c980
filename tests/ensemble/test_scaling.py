"""Finite-size scaling ([scaling], ensemble.analysis.scaling) against a synthetic observable of known W_c and nu
(tests/ensemble/scaling_kernel.py: the disorder average is exactly 1/2 + A tanh((W - W_c) L^(1/nu))), with
negative controls; the crossing and the collapse quality against closed forms; one-line refusals of bad tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ensemble import MemoryStore, SpecError, execute, parse_spec
from ensemble.analysis.resolution import RESOLVED, STATUSES
from ensemble.analysis.scaling import collapse_quality, crossing
from tests.ensemble.test_hardening import one_line_error
from tests.helpers import run_cli

W_C, NU = 3.0, 1.5

SPEC = """
kernel = "module:tests.ensemble.scaling_kernel"
seed = {seed}
realizations = 400
block_size = 40
[params]
noise = 0.05
W_c = {w_c}
nu = {nu}
[sweep]
L = [8, 12, 16, 24]
W = [2.5, 2.6, 2.7, 2.8, 2.9, 3.0, 3.1, 3.2, 3.3, 3.4, 3.5]
[scaling]
observable = "y"
size = "L"
control = "W"
bootstrap = {boot}
{extra}
"""


def scaling_table(seed=1, boot=20, extra="", w_c=W_C, nu=NU):
    exp = parse_spec(SPEC.format(seed=seed, boot=boot, extra=extra, w_c=w_c, nu=nu))
    return execute(exp, MemoryStore()).tables["scaling"]


def test_crossing_of_two_lines_is_their_intersection():
    x = np.linspace(0.0, 4.0, 9)
    ya, yb = 1.0 + 0.5 * x, 2.2 - 0.1 * x  # they meet at x = 2
    xc, i, n = crossing(x, ya, yb, np.full(9, 0.01), np.full(9, 0.01))
    assert math.isclose(xc, 2.0, rel_tol=1e-12) and x[i] <= 2.0 <= x[i + 1] and n == 1
    assert math.isnan(crossing(x, ya, ya + 5.0, np.full(9, 0.01), np.full(9, 0.01))[0])  # parallel: none


@pytest.mark.parametrize("grid", [[2.5, 2.75, 3.0, 3.25], [2.5, 2.75, 2.875, 3.0, 3.25], np.linspace(2.5, 3.25, 13)])
def test_the_stated_interpolation_error_covers_the_crossings_actual_bias(grid):
    """Exact averages of sizes 16 and 32 whose curves cross at 2.9561 (a drift: the crossing lies in the curves'
    bend, where no line through the sampled values has its root inside the bracket). The crossing's distance
    from the truth must lie within its stated interpolation error plus three statistical errors, on a coarse and
    on a fine grid. Before, when both fits missed the bracket, both fell back to the same line through its ends
    and the stated interpolation error was 0 beside a bias of 0.049 (the negative control: the bias is real)."""
    from ensemble.analysis.scaling import _crossing_rows
    from tests.ensemble.scaling_kernel import Params, average
    from tests.ensemble.scaling_kernel import crossing as exact

    x = np.asarray(grid, float)
    data = {L: (x, np.array([average(Params(L=L, W=w, drift=2.0)) for w in x]), np.full(len(x), 1e-4))
            for L in (16, 32)}  # fmt: skip
    (row,) = _crossing_rows(data, np.random.default_rng(1), 40)
    truth = exact(3.0, 1.5, 2.0, 16)
    assert abs(row["X_cross"] - truth) <= row["X_cross_sys"] + 3 * row["X_cross_err"] + 1e-9, (row, truth)
    if len(x) == 4:  # the coarse grid: a real bias, which the stated error now carries
        assert abs(row["X_cross"] - truth) > 0.02 and row["X_cross_sys"] >= 0.1, row


def test_collapse_quality_is_small_at_the_truth_and_large_away_from_it():
    Ls, W = (8, 16, 32), np.linspace(2.5, 3.5, 21)
    data = {L: (W, 0.5 + 0.2 * np.tanh((W - W_C) * L ** (1 / NU)), np.full(len(W), 1e-3)) for L in Ls}
    at_truth = collapse_quality(W_C, NU, data)
    assert at_truth < 1.0  # noiseless: only the interpolation of the master curve is left
    assert collapse_quality(W_C + 0.1, NU, data) > 50 * max(at_truth, 1e-3)  # negative control
    assert collapse_quality(W_C, 2 * NU, data) > 50 * max(at_truth, 1e-3)


@pytest.mark.slow  # CI time (< 30 min): siblings cover the path in CI; -m slow runs it
def test_the_synthetic_critical_point_and_exponent_are_recovered():
    sc = scaling_table(seed=1)
    assert set(sc["status"]) <= set(STATUSES)
    col = sc[sc["kind"] == "collapse"].iloc[0]
    assert col["status"] == RESOLVED and col["S"] < 2.0
    assert abs(col["X_c"] - W_C) < 3 * col["X_c_err"] and abs(col["nu"] - NU) < 3 * col["nu_err"]
    cross = sc[sc["kind"] == "crossing"]
    assert len(cross) == 3 and (np.isfinite(cross["X_cross"])).all()
    tot = np.hypot(cross["X_cross_err"], cross["X_cross_sys"].fillna(0))
    assert (np.abs(cross["X_cross"] - W_C) < 4 * tot).all()
    inv = sc[(sc["kind"] == "extrapolation") & (sc["form"] == "inverse")].iloc[0]
    assert abs(inv["X_c"] - W_C) < 3 * inv["X_c_err"]
    assert sc[(sc["kind"] == "extrapolation") & (sc["form"] == "power")].iloc[0]["status"] != RESOLVED  # 3 crossings
    # negative control: the same analysis of a chain whose W_c is 3.3 excludes 3.0
    other = scaling_table(seed=1, w_c=3.3)
    col = other[other["kind"] == "collapse"].iloc[0]
    assert abs(col["X_c"] - W_C) > 5 * col["X_c_err"] and abs(col["X_c"] - 3.3) < 3 * col["X_c_err"]


_PULLS: dict = {}


def coverage_pulls() -> dict[str, list[float]]:
    """(value - truth) / error over 20 seeds, for the collapse's X_c and nu and the extrapolated X_c (computed
    once for the tests below: about ten minutes)."""
    if not _PULLS:
        pulls = {"X_c": [], "nu": [], "inverse": []}
        for seed in range(20):
            sc = scaling_table(seed=100 + seed, boot=50, extra='forms = ["inverse"]')
            col = sc[sc["kind"] == "collapse"].iloc[0]
            inv = sc[sc["kind"] == "extrapolation"].iloc[0]
            pulls["X_c"].append((col["X_c"] - W_C) / col["X_c_err"])
            pulls["nu"].append((col["nu"] - NU) / col["nu_err"])
            pulls["inverse"].append((inv["X_c"] - W_C) / inv["X_c_err"])
        _PULLS.update(pulls)
    return _PULLS


def covered(name: str) -> float:
    p = np.asarray(coverage_pulls()[name])
    print(f"coverage within 2 sigma of {name}: {np.mean(np.abs(p) < 2):.2f} over {len(p)} seeds; pulls {np.round(p, 2).tolist()}")
    return float(np.mean(np.abs(p) < 2.0))


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("name", ["X_c", "inverse"])
def test_the_critical_point_error_bars_cover_the_truth_over_many_seeds(name):
    """At least 80% of 20 seeds within 2 sigma (95% expected; an error bar too small by half fails). Measured:
    the collapse's X_c 90%."""
    assert covered(name) >= 0.8


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.xfail(strict=True, reason="measured: nu within 2 sigma in 70% of 20 seeds. The collapse quality S has "
                   "kinks where scaled points of two sizes pass each other; the minimum locks onto them, so nu's "
                   "bootstrap (and curvature) error undercovers. Open: a smooth master curve (local polynomial "
                   "fits, or a Bayesian scaling analysis)")
def test_the_exponent_error_bar_covers_the_truth_over_many_seeds():
    assert covered("nu") >= 0.8


@pytest.mark.parametrize("table, words", [
    ('observable = "x", size = "L", control = "W"', ["scaling.observable", "an observable of the run: y"]),
    ('observable = "y", size = "N", control = "W"', ["scaling.size", "a swept parameter"]),
    ('observable = "y", size = "L", control = "L"', ["scaling.control", "other than the size"]),
    ('observable = "y", size = "L", control = "W", forms = ["cubic"]', ["scaling.forms", "inverse"]),
    ('observable = "y", size = "L", control = "W", bootstrap = 5', ["scaling.bootstrap", "20..100000"]),
    ('observable = "y", size = "L", control = "W", colapse = true', ["scaling.colapse", "collapse"]),
])
def test_a_bad_scaling_table_is_one_line_before_anything_runs(tmp_path, table, words):
    text = SPEC.format(seed=1, boot=20, extra="", w_c=W_C, nu=NU).split("[scaling]")[0]
    spec = tmp_path / "s.toml"
    spec.write_text(text + "[scaling]\n" + table.replace(", ", "\n") + "\n")
    with pytest.raises(SpecError):
        parse_spec(spec.read_text())
    one_line_error(run_cli("validate", spec), *words)


def test_a_control_swept_over_two_values_is_refused():
    text = SPEC.format(seed=1, boot=20, extra="", w_c=W_C, nu=NU).replace(
        "W = [2.5, 2.6, 2.7, 2.8, 2.9, 3.0, 3.1, 3.2, 3.3, 3.4, 3.5]", "W = [2.5, 3.5]")
    with pytest.raises(SpecError, match="at least 3 values"):
        parse_spec(text)


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_the_scaling_figure_is_drawn_readable_for_a_plugin_kernel(tmp_path):
    """The run's figures include 'scaling' (crossings and collapse) for a kernel with no model of its own, and it
    passes the conformance checks every figure passes (no empty panel, no text over data, labels, caption)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ensemble.present.figstyle import draw
    from tests.test_conformance import check_readable

    exp = parse_spec(SPEC.format(seed=2, boot=20, extra="", w_c=W_C, nu=NU))
    tables = execute(exp, MemoryStore()).tables
    figs = draw(exp.model, exp, tables)
    assert "scaling" in figs
    check_readable("scaling", figs["scaling"])
    assert len([ax for ax in figs["scaling"].figure.axes if ax.get_visible()]) == 2
    for f in figs.values():
        plt.close(f.figure)
