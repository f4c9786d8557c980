"""Nothing writes into a run directory except the engine (issue 33): every path a user names goes through one
guard (ensemble/store/guard.py), and a writable query gets DuckDB's own allowed_directories, nothing else.

Each test tries what a hostile user would, through the command line or the Python API, and checks that the
run's files are byte-identical afterwards and the refusal is one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ensemble
from tests.ensemble.test_hardening import one_line_error, serial_run, spec_file
from tests.helpers import HANG_GUARD, run_cli, small_spec


def snapshot(run: Path) -> dict[str, bytes]:
    """Every file of a run directory (but its lock) by relative path, with its bytes."""
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file() and p.name != ".lock"}


def cli_in(cwd, *args):
    return subprocess.run([sys.executable, "-m", "ensemble", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=HANG_GUARD)  # fmt: skip


# -- --writable queries: DuckDB's own controls ------------------------------------------------------------------


def test_writable_query_cannot_reach_the_runs_tables_however_the_path_is_spelled(small_run, tmp_path):
    before = snapshot(small_run)
    exports = tmp_path / "exports"
    exports.mkdir()
    target = small_run.resolve() / "tables" / "summary.parquet"
    spellings = [
        f"COPY (SELECT 1 AS x) TO $${target}$$ (FORMAT parquet)",  # dollar-quoted
        f"COPY (SELECT 1 AS x) TO E'{target}' (FORMAT parquet)",  # escape string
        f'COPY (SELECT 1 AS x) TO "{target}" (FORMAT parquet)',  # a double-quoted identifier
        f"COPY (SELECT 1 AS x) TO '{exports}/../run/tables/summary.parquet' (FORMAT parquet)",
        f"COPY (SELECT 1 AS x) TO '{small_run.resolve()}/tables' (FORMAT parquet, PARTITION_BY (x), OVERWRITE)",
        f"ATTACH '{small_run.resolve()}/tables/x.db' AS x",
        f"COPY (SELECT 1 AS x) TO '{tmp_path}/outside.csv'",  # outside the runs, but not the directory named
    ]
    for sql in spellings:
        res = run_cli("query", small_run, sql, "--writable", exports)
        assert res.returncode == 2 and "Traceback" not in res.stderr, (sql, res.stderr)
    assert not (tmp_path / "outside.csv").exists()
    assert snapshot(small_run) == before
    res = run_cli("query", small_run, f"COPY (SELECT fit FROM fits) TO '{exports}/fits.csv'", "--writable", exports)
    assert res.returncode == 0 and (exports / "fits.csv").read_text().startswith("fit"), res.stderr


def test_writable_query_from_inside_the_run_directory(small_run):
    before = snapshot(small_run)
    for args in (["--writable"], ["--writable", "."], ["--writable", "tables"], ["--writable", "tables/../.."]):
        res = cli_in(small_run, "query", ".", "COPY (SELECT 1 AS a) TO 'tables' (FORMAT parquet, PARTITION_BY (a), OVERWRITE)",
                     *args)  # fmt: skip
        assert res.returncode == 2 and "Traceback" not in res.stderr, (args, res.stderr)
    assert snapshot(small_run) == before


def test_writable_directory_holding_a_run_or_a_hard_link_is_refused(small_run, tmp_path):
    holder = tmp_path / "holder"
    (holder / "sub").mkdir(parents=True)
    os.symlink(small_run / "tables", holder / "sub" / "link")  # a link is fine: DuckDB resolves it, and refuses
    res = run_cli("query", small_run, f"COPY (SELECT 1 AS x) TO '{holder}/sub/link/summary.parquet'", "--writable", holder)
    assert res.returncode == 2, res.stderr
    os.link(small_run / "tables" / "fits.parquet", holder / "fits_copy.parquet")  # a hard link would be written through
    one_line_error(run_cli("query", small_run, "SELECT 1", "--writable", holder), "--writable", "hard-linked")
    (holder / "fits_copy.parquet").unlink()
    (holder / "nested").mkdir()
    (holder / "nested" / "run.json").write_text("{}")  # a run below: refused
    one_line_error(run_cli("query", small_run, "SELECT 1", "--writable", holder), "--writable", "holding no run directory")
    with pytest.raises(ensemble.UsageError, match="run directory"):
        ensemble.query(small_run, "SELECT 1", writable=holder)


def test_read_only_queries_stay_read_only(small_run, tmp_path):
    one_line_error(run_cli("query", small_run, f"COPY (SELECT 1) TO '{tmp_path}/x.csv'"), "refused")
    one_line_error(run_cli("query", small_run, "SELECT * FROM read_csv('/etc/passwd')"), "refused")
    assert not (tmp_path / "x.csv").exists()


# -- exports and other outputs --------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["tables/summary.parquet", "tables", "new.nc", "partials/../tables/x.nc", "."])
def test_to_netcdf_into_a_run_is_refused(small_run, where):
    before = snapshot(small_run)
    r = ensemble.open_run(small_run)
    with pytest.raises(ensemble.UsageError, match="outside run directories"):
        r.to_netcdf(small_run / where)
    assert snapshot(small_run) == before
    assert len(ensemble.query(small_run, "SELECT * FROM summary")) == len(r.summary)


def test_to_netcdf_through_a_symlink_or_relative_path_into_a_run_is_refused(small_run, tmp_path, monkeypatch):
    before = snapshot(small_run)
    (tmp_path / "alias").symlink_to(small_run)
    (tmp_path / "dangling.nc").symlink_to(small_run / "tables" / "new.nc")
    r = ensemble.open_run(small_run)
    for path in (tmp_path / "alias" / "x.nc", tmp_path / "dangling.nc"):
        with pytest.raises(ensemble.UsageError, match="outside run directories"):
            r.to_netcdf(path)
    monkeypatch.chdir(small_run / "tables")
    with pytest.raises(ensemble.UsageError, match="outside run directories"):
        r.to_netcdf("summary.parquet")
    assert snapshot(small_run) == before


def test_to_netcdf_never_overwrites_unless_asked_and_fails_in_one_line(small_run, tmp_path):
    r = ensemble.open_run(small_run)
    path = r.to_netcdf(tmp_path / "a.nc")
    first = path.read_bytes()
    with pytest.raises(ensemble.UsageError, match="exists"):
        r.to_netcdf(path)
    assert path.read_bytes() == first
    assert r.to_netcdf(path, overwrite=True) == path
    with pytest.raises(ensemble.UsageError, match="not a directory"):
        r.to_netcdf(tmp_path)
    with pytest.raises(ensemble.UsageError, match="does not exist"):
        r.to_netcdf(tmp_path / "missing" / "a.nc")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() != 0:  # root writes anywhere
        with pytest.raises(ensemble.UsageError, match="not writable"):
            r.to_netcdf(locked / "a.nc")


@pytest.mark.slow  # CI time (< 30 min): siblings cover the path in CI; -m slow runs it
def test_replay_save_plot_out_and_new_kernel_out_are_guarded(small_run, tmp_path):
    before = snapshot(small_run)
    one_line_error(run_cli("replay", small_run, "--point", 0, "--realization", 0, "--save", small_run / "tables" / "x.npz"),
                   "--save", "outside run directories")  # fmt: skip
    one_line_error(run_cli("replay", small_run, "--point", 0, "--realization", 0, "--save", tmp_path / "no" / "x.npz"),
                   "--save", "does not exist")  # fmt: skip
    saved = tmp_path / "x.npz"
    res = run_cli("replay", small_run, "--point", 0, "--realization", 0, "--save", saved)
    assert res.returncode == 0 and saved.exists(), res.stderr
    one_line_error(run_cli("replay", small_run, "--point", 0, "--realization", 0, "--save", saved), "--save", "exists")
    assert run_cli("replay", small_run, "--point", 0, "--realization", 0, "--save", saved, "--overwrite").returncode == 0
    one_line_error(run_cli("plot", small_run, "--out", small_run / "tables"), "--out", "outside run directories")
    one_line_error(run_cli("new-kernel", "my_kernel_x", "--out", small_run / "plugin"), "--out", "outside run directories")
    assert snapshot(small_run) == before
    figs = tmp_path / "figs"
    res = run_cli("plot", small_run, "--out", figs)
    assert res.returncode == 0 and any(figs.glob("*.png")), res.stderr
    one_line_error(run_cli("plot", small_run, "--out", figs), "--out", "overwrite")
    assert run_cli("plot", small_run, "--out", figs, "--overwrite").returncode == 0


def test_a_new_run_is_not_made_inside_another_run(small_run, tmp_path):
    before = snapshot(small_run)
    spec = spec_file(tmp_path, small_spec(realizations=4, batch_size=4, block_size=2))
    one_line_error(serial_run(spec, small_run / "nested"), "--out", "outside run directories")
    one_line_error(run_cli("reproduce", "003", "--out", small_run / "papers", "--executor", "serial"), "--out",
                   "outside run directories")  # fmt: skip
    assert snapshot(small_run) == before and not (small_run / "nested").exists()
