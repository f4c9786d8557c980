"""The notebook-facing API: what tab completion lists, versions, specs as dicts, validate, short reprs and HTML."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import ensemble
from tests.helpers import small_spec


def test_dir_lists_the_public_api_including_names_loaded_on_first_use():
    names = dir(ensemble)
    for name in ("run", "submit", "open_run", "validate", "Run", "Submission", "query", "kernel_info", "__version__"):
        assert name in names, name
    assert all(hasattr(ensemble, n) for n in ensemble.__all__)


def test_one_version_everywhere(tmp_path):
    from importlib import metadata

    assert ensemble.__version__ == metadata.version("mbl-ensemble")
    out = subprocess.run([sys.executable, "-m", "ensemble", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"ensemble (mbl-ensemble) {ensemble.__version__}"
    r = ensemble.run(small_spec(realizations=8), out=tmp_path / "v", executor="serial")
    assert r.provenance["environment"]["versions"]["mbl-ensemble"] == ensemble.__version__


def test_a_spec_may_be_a_dict_and_is_recorded_as_toml(tmp_path):
    import tomllib

    spec = {"kernel": "anderson_trajectory", "seed": 3, "realizations": 8, "block_size": 4, "params": {"L": 8},
            "sweep": {"W": [2.0, 4.0]}, "times": {"values": [1.0, 2.0]}}  # fmt: skip
    plan = ensemble.validate(spec)
    assert plan.tasks >= 1 and list(plan.points["label"]) == ["W=2", "W=4"] and "<table" in plan._repr_html_()
    r = ensemble.run(spec, out=tmp_path / "d", executor="serial")
    recorded = tomllib.loads((tmp_path / "d" / "spec.toml").read_text())
    assert recorded == spec
    text = ensemble.run(tomllib.loads((tmp_path / "d" / "spec.toml").read_text()), out=tmp_path / "again", executor="serial")
    assert text.summary.equals(r.summary)
    with pytest.raises(ensemble.SpecError, match="seed"):
        ensemble.validate({**spec, "seed": -1})
    with pytest.raises(ensemble.UsageError, match="a dict of TOML values"):
        ensemble.validate({**spec, "seed": object()})


def test_reprs_are_short_and_html_is_a_table(tmp_path):
    r = ensemble.run(small_spec(realizations=8), out=tmp_path / "r", executor="serial")
    st = r.status()
    info = ensemble.kernel_info("xxz_bubble")
    for obj in (r, st, info):
        assert len(repr(obj).splitlines()) <= 15, type(obj)
        assert "<table>" in obj._repr_html_(), type(obj)
    assert len(str(info).splitlines()) > 15  # print() still shows everything
    assert "W" in r._repr_html_() and "status" in r._repr_html_()  # the swept parameter, the fits' status


def test_fits_as_a_dataset_and_zarr_needs_its_extra(tmp_path):
    r = ensemble.run(small_spec(realizations=8), out=tmp_path / "f", executor="serial")
    ds = r.fits_to_xarray("front")
    assert "W" in ds.dims and "status" in ds
    with pytest.raises(ensemble.UsageError, match="a fit of the run"):
        r.fits_to_xarray("nope")
    try:
        import zarr  # noqa: F401
    except ImportError:
        with pytest.raises(ensemble.UsageError, match="zarr"):
            r.to_zarr(tmp_path / "x.zarr")
    else:
        import xarray as xr

        r.to_zarr(tmp_path / "x.zarr", ["Ir"])
        assert float(xr.open_zarr(tmp_path / "x.zarr")["Ir"].sum()) == pytest.approx(float(r.to_xarray("Ir")["Ir"].sum()))
    json.dumps(ds.attrs)  # plain attributes
