"""Paper 000's Fig. 2 values drawn at their cell of the Fig. 3 map, only on the paper's setup (issue 26)."""

from __future__ import annotations

import matplotlib
import pytest

from ensemble import MemoryStore, execute, parse_spec
from ensemble.models.quench.figures import figures

matplotlib.use("Agg")

SPEC = """kernel = "coupled_chains"
seed = 5
realizations = 2
[params]
operators = "{operators}"
l = 6
W_s = 9.0
config = "junction"
initial = "aligned"
window_start = 40.0
window_stop = 50.0
window_points = 3
[sweep]
J_int = [0.0, 1.0]
W_e = [0.0, 1.0]
[times]
values = [50.0]
"""


@pytest.mark.parametrize("operators, drawn", [("pauli", True), ("spin", False)])
def test_the_papers_fig2_values_sit_on_their_cell_of_the_map(operators, drawn):
    exp = parse_spec(SPEC.format(operators=operators))
    figs = figures(exp, execute(exp, MemoryStore()).tables)
    fig = figs["map_junction_aligned"]
    top = fig.axes[:2]  # plt.subplots(2, 2): the value maps of sys and env first, their error maps next
    notes = [[t.get_text() for t in ax.texts] for ax in top]
    rings = [tuple(ln.get_xydata()[0]) for ax in top for ln in ax.lines if ln.get_marker() == "o"]
    if drawn:
        assert notes == [["paper, Fig. 2: 0.4"], ["paper, Fig. 2: 0"]] and rings == [(1.0, 0.0), (1.0, 0.0)]
    else:
        assert notes == [[], []] and rings == []
    assert not any(ax.texts for ax in fig.axes[2:])  # not on the maps of the errors
