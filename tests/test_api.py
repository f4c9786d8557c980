"""The Python API: ensemble.run (serial, a distributed.Client, the local cluster from a piped script),
open_run and its tables, xarray, figures and query; kernel descriptions; the notebook-style example."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

import ensemble
from ensemble.present.describe import kernel_info
from ensemble.models import builtin_kernels
from tests.helpers import HANG_GUARD, assert_tables_identical, read_tables, run_cli, small_spec

ROOT = Path(__file__).resolve().parent.parent


def test_run_returns_a_run_equal_to_the_cli(tmp_path):
    r = ensemble.run(small_spec(), out=tmp_path / "api", executor="serial")
    assert isinstance(r, ensemble.Run) and r.name == "small" and len(r.points) == 2
    spec = tmp_path / "s.toml"
    spec.write_text(small_spec())
    assert run_cli("run", spec, "--out", tmp_path / "cli", "--executor", "serial", "--no-progress").returncode == 0
    assert_tables_identical(r.tables, read_tables(tmp_path / "cli"))
    again = ensemble.open_run(tmp_path / "api")
    assert_tables_identical(again.tables, r.tables)
    assert set(again.provenance) >= {"environment", "created", "tables"}
    assert list(again.points.columns[:3]) == ["point", "key", "W"]


def test_to_xarray_labels_swept_parameters_and_axes(tmp_path):
    r = ensemble.run(small_spec(), out=tmp_path / "r", executor="serial")
    ds = r.to_xarray("Sz0")
    assert set(ds.dims) == {"W", "t", "site"} and ds.sizes["site"] == 10 and list(ds["W"].values) == [2.0, 6.0]
    s = r.summary
    row = s[(s.observable == "Sz0") & (s.W == 6.0) & (s.site == 3)].sort_values("t").iloc[4]
    assert ds["Sz0"].sel(W=6.0, site=3, t=row.t).item() == row["mean"]
    assert ds["Sz0_sem"].sel(W=6.0, site=3, t=row.t).item() == row["sem"]
    assert ds.attrs["L"] == 10 and ds.attrs["observable"] == "Sz0"
    # CF conventions: the description, the units, the error linked to the value; units on the time axis
    assert ds["Sz0"].attrs["long_name"].startswith("<S^z_j>(t) of the chain without the bath")
    assert ds["Sz0"].attrs["units"] == "1" and ds["Sz0"].attrs["ancillary_variables"] == "Sz0_sem Sz0_n"
    assert ds["t"].attrs["units"] == "1/J" and ds["Sz0_n"].dtype.kind == "i"
    path = r.to_netcdf(tmp_path / "r.nc", ["Sz0", "Ir"])
    import xarray as xr

    with xr.open_dataset(path) as back:
        assert back["Sz0"].attrs["long_name"] == ds["Sz0"].attrs["long_name"] and "Ir_sem" in back
        assert float(back["Sz0"].sel(W=6.0, site=3, t=row.t)) == row["mean"]
    assert set(r.to_xarray("Ir").dims) == {"W", "t"}
    with pytest.raises(ensemble.UsageError, match="an observable of the run"):
        r.to_xarray("nope")


def test_figures_are_matplotlib_figures_and_query_works(tmp_path):
    r = ensemble.run(small_spec(), out=tmp_path / "r", executor="serial")
    figs = r.figures()
    assert figs and all(isinstance(f.figure, matplotlib.figure.Figure) and "N_r = 24" in f.caption for f in figs.values())
    f = next(iter(figs.values()))
    assert f.axes == f.figure.axes  # the Figure's attributes on the pair itself
    assert not (tmp_path / "r" / "plots").exists()  # nothing written
    df = r.query("SELECT W, invA FROM fits WHERE fit = 'front' ORDER BY W")
    assert list(df.W) == [2.0, 6.0]


def test_run_on_an_existing_client_leaves_it_open(tmp_path, local_executor):
    client = local_executor.client
    r = ensemble.run(small_spec(), out=tmp_path / "c", client=client)
    assert client.status == "running"
    assert_tables_identical(r.tables, ensemble.run(small_spec(), out=tmp_path / "s", executor="serial").tables)


def test_a_script_piped_to_python_runs_on_the_local_cluster(tmp_path):
    """Spawned workers used to fail on '<stdin>' and leave a half-made directory."""
    code = (f"import ensemble\nr = ensemble.run({small_spec()!r}, out={str(tmp_path / 'p')!r}, workers=2)\n"
            "print('front rows', len(r.fits.query(\"fit == 'front'\")))\n")  # fmt: skip
    res = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, cwd=tmp_path, timeout=HANG_GUARD)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "front rows 2" in res.stdout and "FileNotFoundError" not in res.stderr


def test_notebook_style_example_runs(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "examples" / "working_from_python.py")], capture_output=True,
                         text=True, cwd=tmp_path, timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Ig.median" in res.stdout and "fig4_front" in res.stdout and "W=2: 60 -> 120" in res.stdout


@pytest.mark.parametrize("name", builtin_kernels())
def test_every_kernel_is_described(name):
    info = kernel_info(name)
    assert info.parameters and all(p["doc"] != "(undocumented)" for p in info.parameters), name
    assert all(o["doc"] for o in info.observables), [o["name"] for o in info.observables if not o["doc"]]
    text = str(info)
    for p in info.parameters:
        assert f"  {p['name']} " in text


def test_cli_kernels_name(tmp_path):
    res = run_cli("kernels", "rmt_bath")
    assert res.returncode == 0 and "hyb (omega)" in res.stdout and "n_lioms" in res.stdout and "even, >= 2" in res.stdout
    bad = run_cli("kernels", "rmt_bth")
    assert bad.returncode == 2 and "did you mean 'rmt_bath'" in bad.stderr


def test_api_refuses_bad_arguments_in_one_line(tmp_path):
    with pytest.raises(ensemble.UsageError, match="executor"):
        ensemble.run(small_spec(), out=tmp_path / "x", executor="gpu")
    with pytest.raises(ensemble.SpecError):
        ensemble.run(small_spec().replace("L = 10", "L = 9"), out=tmp_path / "y", executor="serial")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_kernel_histograms_integrate_to_one_and_match_the_mean(tmp_path):
    """P(r) of the rmt_bath kernel: a density on [0, 1] whose mean equals the mean gap ratio (to the bin width)."""
    spec = 'kernel = "rmt_bath"\nseed = 2\nrealizations = 20\n[params]\nl_b = 6\nn_lioms = 1\n'
    r = ensemble.run(spec, out=tmp_path / "r", executor="serial")
    ds = r.to_xarray("r_hist")
    density, ratio = ds["r_hist"].values, ds["ratio"].values
    width = ratio[1] - ratio[0]
    assert abs(density.sum() * width - 1) < 1e-12
    mean_r = r.summary.query("observable == 'r'")["mean"].item()
    assert abs((density * ratio).sum() * width - mean_r) < width / 2
    med = r.summary.query("observable == 'r_hist.median'")["mean"].item()
    assert 0.45 < med < 0.65  # GOE: the median gap ratio is about 0.53; Poisson 0.41


def test_replay_from_python_is_the_realization_a_run_averages(tmp_path):
    """ensemble.replay: one realization with its run seed, outputs checked; the mean of the replays of every
    realization of a point is the run's summary mean for that point (an independent path to the same number)."""
    import numpy as np

    spec = tmp_path / "s.toml"
    spec.write_text(small_spec(realizations=6, batch_size=2, block_size=2))
    run = ensemble.run(spec, tmp_path / "run", executor="serial")
    pt = run.spec.points[1]
    reps = [ensemble.replay(tmp_path / "run", 1, r) for r in range(pt.realizations)]
    assert all(r.ok and r.point.key == pt.key for r in reps)
    summary = run.summary
    for name in reps[0].outputs:
        rows = summary[(summary.observable == name) & (summary.W == pt.params.W) & (summary.estimator == "mean")]
        mean = np.mean([r.outputs[name] for r in reps], axis=0).ravel()
        assert np.allclose(rows["mean"].to_numpy(), mean, rtol=1e-12, atol=1e-14), name
    other = ensemble.replay(tmp_path / "run", 0, 0)  # negative control: another point's realization differs
    name = next(iter(other.outputs))
    assert not np.allclose(other.outputs[name], reps[0].outputs[name])
    with pytest.raises(ensemble.UsageError):
        ensemble.replay(spec, 7, 0)
