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
    """The README's first command (L = 100, 1200 realizations, 7 W) on the local Dask cluster."""
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
