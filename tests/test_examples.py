"""Example specs stay valid, and the main job's spec runs (at reduced size) to tables and fits."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from ensemble import MemoryStore, load_spec, parse_spec, execute
from tests.helpers import run_cli

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_valid(path):
    exp = load_spec(path)
    assert exp.points and all(p.realizations > 0 for p in exp.points)


def test_main_example_runs_at_reduced_size():
    path = Path(__file__).resolve().parent.parent / "examples" / "fig4a_anderson.toml"
    text = re.sub(r"(?m)^realizations = \d+", "realizations = 24", path.read_text())
    text = re.sub(r"(?m)^batch_size = \d+", "batch_size = 12", text)
    text = re.sub(r"(?m)^block_size = \d+", "block_size = 3", text)
    exp = parse_spec(text)
    assert exp.points[0].params.L == 100 and exp.points[0].params.times[-1] == 1e5
    tables = execute(exp, MemoryStore()).tables
    fits = tables["fits"][tables["fits"].fit == "front"]
    assert list(fits.W) == [3.0, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0]
    assert fits.invA.notna().all() and (fits.invA_err > 0).all()


@pytest.mark.slow
def test_main_job_full_scale_through_the_cli(tmp_path):
    """The README's first command (L = 100, 1200 realizations, 7 W) on the default executor."""
    path = Path(__file__).resolve().parent.parent / "examples" / "fig4a_anderson.toml"
    res = run_cli("run", path, "--out", tmp_path / "fig4a", "--no-progress", timeout=1800)
    assert res.returncode == 0, res.stderr
    assert "ran 8400 realizations" in res.stdout
    fits = pd.read_parquet(tmp_path / "fig4a" / "tables" / "fits.parquet")
    fits = fits[fits.fit == "front"]
    assert (fits.n == 1200).all() and (fits.invA_err > 0).all()
    assert fits.invA.is_monotonic_increasing  # the front slows down as W grows


def test_the_gallerys_generic_figure_is_drawn_by_its_script(tmp_path):
    """examples/generic_figure.py: a kernel with no analysis of its own gets the means model's figure, with
    its caption, at the gallery's size (the gallery's PNG is this script's output)."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parent.parent / "examples" / "generic_figure.py"
    res = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=600,
                         check=False)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    assert (tmp_path / "generic_means_sz.png").stat().st_size > 10_000
    caption = (tmp_path / "generic_means_sz.caption.txt").read_text()
    assert "(ramsey)" in caption and "N_r = 2000" in caption and "W = 0.5–2 (3 values)" in caption


def _load_example(name: str):
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("reading, operators, profile", [
    ("S form (the Hamiltonian as printed)", "spin", ""),
    ("Pauli form (sigma.sigma + h sigma^z)", "pauli", ""),
    ("Pauli form, no field on site 6 (hypothesis)", "pauli", "clean 6"),
])  # fmt: skip
def test_paper000_readings_script_agrees_with_the_kernel_where_both_define_the_model(reading, operators, profile):
    """examples/paper000_readings.py is written from the paper alone (its own basis, Hamiltonian and window
    average); where a reading is a convention coupled_chains also runs, the two agree on the same fields to
    rounding, and a reading the kernel is not running (the other convention) does not."""
    import numpy as np

    from kernels.quench import coupled_chains as cc

    script = _load_example("paper000_readings")
    p = cc.Params(l=6, W_s=9.0, W_e=0.0, J_int=1.0, operators=operators, profile=profile, window_points=25, times=(1.0,))
    h = cc.sample(p, np.random.default_rng(11)).h
    ours = cc.realize(p, cc.Draws(h=h))["Sz_window"]
    theirs = script.window_profile(reading, h)
    np.testing.assert_allclose(theirs, ours, atol=1e-10)
    other = "S form (the Hamiltonian as printed)" if operators == "pauli" else "Pauli form (sigma.sigma + h sigma^z)"
    assert np.abs(script.window_profile(other, h) - ours).max() > 1e-2
