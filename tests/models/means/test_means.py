"""The default analysis: any kernel, a new one without a model of its own included, gets a report of final values
and a figure of every observable against its axes on its first run."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

import ensemble
from ensemble import MemoryStore, execute, parse_spec

matplotlib.use("Agg")

SPEC = """
kernel = "module:tests.ensemble.means_kernel"
seed = 4
realizations = 200
[params]
L = 4
[sweep]
W = {W}
kind = ["plain", "shifted"]
[times]
values = [0.5, 2.0, 8.0, 50.0]
"""


@pytest.fixture(scope="module")
def run():
    exp = parse_spec(SPEC.format(W="[1.0, 3.0]"))
    return exp, execute(exp, MemoryStore()).tables


def test_means_equal_their_closed_forms(run):
    """E[e] = W / 2 and E[m(t)] = exp(-t / L), within 4 standard errors; the wrong law (exp(-t)) is far out."""
    _, tables = run
    s = tables["summary"]
    e = s[s.observable == "e"]
    assert (np.abs(e["mean"] - e.W / 2) < 4 * e["sem"]).all()
    m = s[s.observable == "m"]
    assert (np.abs(m["mean"] - np.exp(-m.t / 4)) < 4 * m["sem"]).all()
    assert (np.abs(m["mean"] - np.exp(-m.t)) > 4 * m["sem"]).any()


def test_report_gives_every_observables_final_value(run):
    exp, tables = run
    lines = exp.model.report(exp, tables)
    text = "\n".join(lines)
    assert exp.model.name == "means"
    assert "e: an energy-like scalar" in text and "m: a decaying signal, at t = 50" in text
    assert "s: a signal per site, at t = 50 (range over site)" in text
    e = tables["summary"].query("observable == 'e' and W == 3.0 and kind == 'plain'").iloc[0]
    assert f"{e['mean']:.6g}" in text  # the value itself, per point


def test_a_figure_per_observable_against_its_axes(run):
    import matplotlib.pyplot as plt

    exp, tables = run
    figs = exp.model.figures(exp, tables)
    assert sorted(figs) == ["e", "m", "s"]
    m = figs["m"]
    panels = [ax for ax in m.axes if ax.get_visible()]
    assert len(panels) == 2 and {ax.get_title() for ax in panels} == {"kind = plain", "kind = shifted"}  # facets
    ax = panels[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "$t$"  # a time axis over two decades
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["$W = 1$", "$W = 3$"]  # a line per swept value
    assert len(ax.containers) == 2  # with error bars
    s = figs["s"]
    assert len([a for a in s.axes if a.get_visible()]) == 4  # one panel per point, a line per site
    for f in figs.values():
        plt.close(f.figure)


def test_at_most_sixteen_lines_a_panel():
    import matplotlib.pyplot as plt

    exp = parse_spec(SPEC.format(W="[" + ", ".join(f"{w:.1f}" for w in np.arange(1.0, 21.0)) + "]").replace(
        "realizations = 200", "realizations = 4"))  # fmt: skip
    figs = exp.model.figures(exp, execute(exp, MemoryStore()).tables)
    legend = figs["m"].axes[0].get_legend()
    assert len(legend.get_texts()) == 16 and legend.get_title().get_text() == "$W$: 16 of 20 values"
    for f in figs.values():
        plt.close(f.figure)


def test_a_users_kernel_gets_figures_from_a_run(tmp_path):
    r = ensemble.run(SPEC.format(W="[1.0]").replace("realizations = 200", "realizations = 8"), out=tmp_path / "r",
                     executor="serial")  # fmt: skip
    figs = r.figures()
    assert sorted(figs) == ["e", "m", "s"]
    assert math.isfinite(r.summary["mean"].iloc[0])
