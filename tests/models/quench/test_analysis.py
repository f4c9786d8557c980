"""Analysis of the coupled_chains kernel through the engine: per-point rows, the App. B comparison,
and the figures (maps, dynamics, M vs W_env, dimers)."""

from __future__ import annotations

import numpy as np
import pytest

from ensemble import MemoryStore, open_run_dir, parse_spec, execute
from ensemble.models.quench.analysis import QuenchAnalysis
from kernels.quench import coupled_chains as cc

SPEC = """
kernel = "coupled_chains"
seed = 3
realizations = 16
batch_size = 8
[params]
l = 4
config = "ladder"
diagonal = true
[sweep]
initial = ["aligned", "misaligned"]
J_int = [0.0, 20.0]
W_e = [1.0, 9.0]
[times]
start = 0.1
stop = 20.0
num = 12
"""


@pytest.fixture(scope="module")
def tables():
    return execute(parse_spec(SPEC), MemoryStore()).tables


def test_point_rows_and_hamming_distance(tables):
    fits, s = tables["fits"], tables["summary"]
    pts = fits[fits.fit == "quench_point"]
    assert len(pts) == 8 and pts.M_sys_err.gt(0).all()
    D = s[s.observable == "D_window"]
    M = s[s.observable == "M_window"]
    np.testing.assert_allclose(D["mean"].to_numpy(), 0.5 * (1 - M["mean"].to_numpy()), atol=1e-12)
    # strongly coupled misaligned rungs lose the pattern, aligned ones keep it (Sec. IV B 3)
    strong = pts[pts.J_int == 20.0].set_index(["initial", "W_e"])
    for W in (1.0, 9.0):
        assert strong.loc[("aligned", W), "M_sys"] > strong.loc[("misaligned", W), "M_sys"] + 0.3
    gap = fits[fits.fit == "window_vs_diagonal"]
    assert len(gap) == 8 and (gap.gap_sys.abs() < 0.2).all()


def test_dimer_comparison_pairs_ladders_with_chains(tables):
    comp = tables["fits"][tables["fits"].fit == "dimer_comparison"]
    assert list(comp.W) == [9.0] and comp.M_chain_err.gt(0).all()  # W_s = W_e = 9 only


def test_estimators_broadcast_over_jackknife_samples():
    a = QuenchAnalysis(cc.Params(l=3, times=(1.0,)))
    m = {"M_window": np.array([[0.8, 0.2], [0.6, 0.4]]), "F_window": np.array([[0.5, 0.5], [0.4, 0.3]])}
    stacked = a.estimators(m)
    one = a.estimators({k: v[1] for k, v in m.items()})
    for k, v in one.items():
        np.testing.assert_allclose(stacked[k][1], v)


def test_figures(tmp_path):
    from ensemble.present.figures import write_figures

    exp = parse_spec(SPEC.replace("realizations = 16", "realizations = 4"))
    execute(exp, open_run_dir(tmp_path / "run", exp, resume=False))
    names = sorted(p.name for p in write_figures(tmp_path / "run"))
    assert names == ["fidelity_ladder_aligned.png", "fidelity_ladder_misaligned.png", "fig10_dimers.png",
                     "fig2_dynamics.png", "fig8_M_vs_We.png", "map_ladder_aligned.png", "map_ladder_misaligned.png"]  # fmt: skip


def test_maps_split_by_every_other_swept_parameter():
    """A sweep over the operators' convention draws one map per convention, each cell its own point
    (no silent average over the other parameter); the colour range covers negative M."""
    import matplotlib.pyplot as plt

    spec = SPEC.replace("[sweep]\n", '[sweep]\noperators = ["spin", "pauli"]\n').replace("realizations = 16", "realizations = 4")
    spec = spec.replace('initial = ["aligned", "misaligned"]', "").replace("l = 4", "l = 3")
    exp = parse_spec(spec)
    tables = execute(exp, MemoryStore()).tables
    figs = exp.model.figures(exp, tables)
    assert {"map_ladder_aligned_spin", "map_ladder_aligned_pauli"} <= set(figs)
    pts = tables["fits"][tables["fits"].fit == "quench_point"]
    for conv in ("spin", "pauli"):
        mesh = figs[f"map_ladder_aligned_{conv}"].axes[0].collections[0]
        rows = pts[pts.operators == conv].pivot(index="W_e", columns="J_int", values="M_sys")
        np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(rows.shape), rows.to_numpy())
        lo, hi = mesh.get_clim()
        assert lo <= min(0.0, pts.M_sys.min(), pts.M_env.min()) and hi >= max(1.0, pts.M_env.max())
    assert not np.allclose(pts[pts.operators == "spin"].M_sys.to_numpy(), pts[pts.operators == "pauli"].M_sys.to_numpy())
    for f in figs.values():
        plt.close(f)
