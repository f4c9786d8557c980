"""Many runs as one: a catalog of run directories (or a parent directory) queried together."""

from __future__ import annotations

import ensemble
from tests.helpers import run_cli, small_spec


def make_runs(tmp_path):
    kicks = ensemble.run(small_spec(), out=tmp_path / "runs" / "kicks", executor="serial")
    jumps = ensemble.run(small_spec().replace("L = 10", "L = 10\nunraveling = \"jumps\""),
                         out=tmp_path / "runs" / "jumps", executor="serial")  # fmt: skip
    other = ensemble.run('kernel = "rmt_bath"\nseed = 1\nrealizations = 4\n[params]\nl_b = 3\nn_lioms = 2\n',
                         out=tmp_path / "runs" / "deep" / "ipr", executor="serial")  # fmt: skip
    return kicks, jumps, other


def test_parent_directory_is_a_catalog_with_run_columns_and_differing_tables(tmp_path):
    kicks, jumps, other = make_runs(tmp_path)
    df = ensemble.query(tmp_path / "runs", "SELECT run, count(*) AS n FROM summary GROUP BY run ORDER BY run")
    assert list(df.run) == ["deep/ipr", "jumps", "kicks"]  # runs are named by their directory below the catalog
    assert df.set_index("run").n["kicks"] == len(kicks.summary) and df.set_index("run").n["deep/ipr"] == len(other.summary)
    # columns differ between kernels: matched by name, NULL where a run has none
    cols = ensemble.query(tmp_path / "runs", "SELECT run, W, op FROM summary WHERE observable = 'D' LIMIT 1")
    assert cols.run.item() == "deep/ipr" and cols.W.isna().item()
    runs = ensemble.query(tmp_path / "runs", "SELECT run, kernel, model, seed, realizations FROM runs ORDER BY run")
    assert list(runs.kernel) == ["rmt_bath", "anderson_trajectory", "anderson_trajectory"]
    assert list(runs.model) == ["ipr", "front", "front"]


def test_comparing_two_runs_kicks_against_jumps(tmp_path):
    kicks, jumps, _ = make_runs(tmp_path)
    sql = ("SELECT a.W, a.t, a.mean AS kicks, b.mean AS jumps FROM summary a JOIN summary b USING (W, t, observable) "
           "WHERE observable = 'Ig' AND a.run = 'kicks' AND b.run = 'jumps' ORDER BY a.W, a.t")  # fmt: skip
    df = ensemble.query([kicks.path, jumps.path], sql)
    assert len(df) == 2 * 12 and (df.kicks != df.jumps).any()
    res = run_cli("query", kicks.path, jumps.path, "SELECT run, unraveling, count(*) FROM fits GROUP BY ALL ORDER BY run")
    assert res.returncode == 0 and "jumps" in res.stdout and "kicks" in res.stdout, res.stderr


def test_one_run_keeps_its_columns(tmp_path):
    kicks, _, _ = make_runs(tmp_path)
    df = ensemble.query(kicks.path, "SELECT * FROM fits LIMIT 1")
    assert "run" not in df.columns and "run_dir" not in df.columns


def test_catalog_is_read_only(tmp_path):
    make_runs(tmp_path)
    res = run_cli("query", tmp_path / "runs", f"COPY summary TO '{tmp_path / 'x.csv'}'")
    assert res.returncode == 2 and "refused" in res.stderr and not (tmp_path / "x.csv").exists()
