"""The papers' readings are drawn on the figure that reproduces theirs, and only there (issue 26)."""

from __future__ import annotations

import matplotlib
import pytest

from ensemble import MemoryStore, execute, parse_spec
from ensemble.models.front import figures as front_figures

matplotlib.use("Agg")

XXZ = """kernel = "xxz_trajectory"
seed = 1
realizations = 2
[params]
Delta = {delta}
unraveling = "jumps"
[sweep]
L = {Ls}
W = [6.0, 8.0]
[times]
start = 0.5
stop = 10.0
num = 5
"""

ANDERSON = """kernel = "anderson_trajectory"
seed = 2
realizations = 4
batch_size = 2
[params]
L = {L}
[sweep]
W = [3.0, 9.0]
[times]
start = 0.5
stop = 400.0
num = 16
[fit]
min_start = 2.0
min_points = 4
min_decades = 0.5
"""


class _Ctx:
    def __init__(self, exp):
        self.exp = exp


@pytest.mark.parametrize("delta, Ls, drawn", [(1.0, "[14, 16]", True), (1.0, "[14]", False), (0.5, "[14, 16]", False)])
def test_the_papers_W_star_range_goes_only_on_the_papers_setup(delta, Ls, drawn):
    """Fig. 4(b) of paper 003 (W* >~ 7 at L = 16, Delta = 1): on a run that has L = 16 at Delta = 1, not on
    one without L = 16 or at another anisotropy. Selection reads the points' parameters, defaults included."""
    exp = parse_spec(XXZ.format(delta=delta, Ls=Ls))
    spans = [r for r in front_figures._readings(_Ctx(exp), "fig4_front") if "span" in r]
    assert bool(spans) is drawn


@pytest.mark.parametrize("L, drawn", [(100, True), (40, False)])
def test_readings_are_drawn_hollow_and_shaded_on_the_inset(monkeypatch, L, drawn):
    """The hollow points of Fig. 4(a) at the paper's L = 100, and a span reading shaded; neither at another L."""
    span = {"kernels": ("anderson_trajectory",), "fixed": {"L": 100}, "figure": "fig4_front", "label": "a span reading",
            "span": (5.0, None)}  # fmt: skip
    monkeypatch.setattr(front_figures, "READINGS", [*front_figures.READINGS, span])
    exp = parse_spec(ANDERSON.format(L=L))
    figs = front_figures.figures(exp, execute(exp, MemoryStore()).tables)
    inset = figs["fig4_front"].axes[1]
    labels = [h.get_label() for h in inset.get_legend_handles_labels()[0]]
    assert ("paper 003, Fig. 4(a) inset" in labels) is drawn
    assert ("a span reading" in labels) is drawn
    if drawn:  # the span reaches the panel's right edge and does not widen it
        patch = next(p for p in inset.patches if p.get_label() == "a span reading")
        x0, x1 = patch.get_x(), patch.get_x() + patch.get_width()
        assert x0 == pytest.approx(5.0) and x1 == pytest.approx(inset.get_xlim()[1])
