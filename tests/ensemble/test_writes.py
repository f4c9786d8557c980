"""Nothing writes into a run directory except the engine (issue 33): every path a user names goes through one
guard (ensemble/guard.py), and a writable query gets DuckDB's own allowed_directories, nothing else.

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


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("writes")
    out = tmp / "run"
    assert serial_run(spec_file(tmp, small_spec()), out).returncode == 0
    return out


def cli_in(cwd, *args):
    return subprocess.run([sys.executable, "-m", "ensemble", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=HANG_GUARD)  # fmt: skip


# -- --writable queries: DuckDB's own controls ------------------------------------------------------------------


def test_writable_query_cannot_reach_the_runs_tables_however_the_path_is_spelled(run_dir, tmp_path):
    before = snapshot(run_dir)
    exports = tmp_path / "exports"
    exports.mkdir()
    target = run_dir.resolve() / "tables" / "summary.parquet"
    spellings = [
        f"COPY (SELECT 1 AS x) TO $${target}$$ (FORMAT parquet)",  # dollar-quoted
        f"COPY (SELECT 1 AS x) TO E'{target}' (FORMAT parquet)",  # escape string
        f'COPY (SELECT 1 AS x) TO "{target}" (FORMAT parquet)',  # a double-quoted identifier
        f"COPY (SELECT 1 AS x) TO '{exports}/../run/tables/summary.parquet' (FORMAT parquet)",
        f"COPY (SELECT 1 AS x) TO '{run_dir.resolve()}/tables' (FORMAT parquet, PARTITION_BY (x), OVERWRITE)",
        f"ATTACH '{run_dir.resolve()}/tables/x.db' AS x",
        f"COPY (SELECT 1 AS x) TO '{tmp_path}/outside.csv'",  # outside the runs, but not the directory named
    ]
    for sql in spellings:
        res = run_cli("query", run_dir, sql, "--writable", exports)
        assert res.returncode == 2 and "Traceback" not in res.stderr, (sql, res.stderr)
    assert not (tmp_path / "outside.csv").exists()
    assert snapshot(run_dir) == before
    res = run_cli("query", run_dir, f"COPY (SELECT fit FROM fits) TO '{exports}/fits.csv'", "--writable", exports)
    assert res.returncode == 0 and (exports / "fits.csv").read_text().startswith("fit"), res.stderr


def test_writable_query_from_inside_the_run_directory(run_dir):
    before = snapshot(run_dir)
    for args in (["--writable"], ["--writable", "."], ["--writable", "tables"], ["--writable", "tables/../.."]):
        res = cli_in(run_dir, "query", ".", "COPY (SELECT 1 AS a) TO 'tables' (FORMAT parquet, PARTITION_BY (a), OVERWRITE)",
                     *args)  # fmt: skip
        assert res.returncode == 2 and "Traceback" not in res.stderr, (args, res.stderr)
    assert snapshot(run_dir) == before


def test_writable_directory_holding_a_run_or_a_hard_link_is_refused(run_dir, tmp_path):
    holder = tmp_path / "holder"
    (holder / "sub").mkdir(parents=True)
    os.symlink(run_dir / "tables", holder / "sub" / "link")  # a link is fine: DuckDB resolves it, and refuses
    res = run_cli("query", run_dir, f"COPY (SELECT 1 AS x) TO '{holder}/sub/link/summary.parquet'", "--writable", holder)
    assert res.returncode == 2, res.stderr
    os.link(run_dir / "tables" / "fits.parquet", holder / "fits_copy.parquet")  # a hard link would be written through
    one_line_error(run_cli("query", run_dir, "SELECT 1", "--writable", holder), "--writable", "hard-linked")
    (holder / "fits_copy.parquet").unlink()
    (holder / "nested").mkdir()
    (holder / "nested" / "run.json").write_text("{}")  # a run below: refused
    one_line_error(run_cli("query", run_dir, "SELECT 1", "--writable", holder), "--writable", "holding no run directory")
    with pytest.raises(ensemble.UsageError, match="run directory"):
        ensemble.query(run_dir, "SELECT 1", writable=holder)


def test_read_only_queries_stay_read_only(run_dir, tmp_path):
    one_line_error(run_cli("query", run_dir, f"COPY (SELECT 1) TO '{tmp_path}/x.csv'"), "refused")
    one_line_error(run_cli("query", run_dir, "SELECT * FROM read_csv('/etc/passwd')"), "refused")
    assert not (tmp_path / "x.csv").exists()


# -- exports and other outputs --------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["tables/summary.parquet", "tables", "new.nc", "partials/../tables/x.nc", "."])
def test_to_netcdf_into_a_run_is_refused(run_dir, where):
    before = snapshot(run_dir)
    r = ensemble.open_run(run_dir)
    with pytest.raises(ensemble.UsageError, match="outside run directories"):
        r.to_netcdf(run_dir / where)
    assert snapshot(run_dir) == before
    assert len(ensemble.query(run_dir, "SELECT * FROM summary")) == len(r.summary)


def test_to_netcdf_through_a_symlink_or_relative_path_into_a_run_is_refused(run_dir, tmp_path, monkeypatch):
    before = snapshot(run_dir)
    (tmp_path / "alias").symlink_to(run_dir)
    (tmp_path / "dangling.nc").symlink_to(run_dir / "tables" / "new.nc")
    r = ensemble.open_run(run_dir)
    for path in (tmp_path / "alias" / "x.nc", tmp_path / "dangling.nc"):
        with pytest.raises(ensemble.UsageError, match="outside run directories"):
            r.to_netcdf(path)
    monkeypatch.chdir(run_dir / "tables")
    with pytest.raises(ensemble.UsageError, match="outside run directories"):
        r.to_netcdf("summary.parquet")
    assert snapshot(run_dir) == before


def test_to_netcdf_never_overwrites_unless_asked_and_fails_in_one_line(run_dir, tmp_path):
    r = ensemble.open_run(run_dir)
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


def test_replay_save_plot_out_and_new_kernel_out_are_guarded(run_dir, tmp_path):
    before = snapshot(run_dir)
    one_line_error(run_cli("replay", run_dir, "--point", 0, "--realization", 0, "--save", run_dir / "tables" / "x.npz"),
                   "--save", "outside run directories")  # fmt: skip
    one_line_error(run_cli("replay", run_dir, "--point", 0, "--realization", 0, "--save", tmp_path / "no" / "x.npz"),
                   "--save", "does not exist")  # fmt: skip
    saved = tmp_path / "x.npz"
    res = run_cli("replay", run_dir, "--point", 0, "--realization", 0, "--save", saved)
    assert res.returncode == 0 and saved.exists(), res.stderr
    one_line_error(run_cli("replay", run_dir, "--point", 0, "--realization", 0, "--save", saved), "--save", "exists")
    assert run_cli("replay", run_dir, "--point", 0, "--realization", 0, "--save", saved, "--overwrite").returncode == 0
    one_line_error(run_cli("plot", run_dir, "--out", run_dir / "tables"), "--out", "outside run directories")
    one_line_error(run_cli("new-kernel", "my_kernel_x", "--out", run_dir / "plugin"), "--out", "outside run directories")
    assert snapshot(run_dir) == before
    figs = tmp_path / "figs"
    res = run_cli("plot", run_dir, "--out", figs)
    assert res.returncode == 0 and any(figs.glob("*.png")), res.stderr
    one_line_error(run_cli("plot", run_dir, "--out", figs), "--out", "overwrite")
    assert run_cli("plot", run_dir, "--out", figs, "--overwrite").returncode == 0


def test_a_new_run_is_not_made_inside_another_run(run_dir, tmp_path):
    before = snapshot(run_dir)
    spec = spec_file(tmp_path, small_spec(realizations=4, batch_size=4, block_size=2))
    one_line_error(serial_run(spec, run_dir / "nested"), "--out", "outside run directories")
    one_line_error(run_cli("reproduce", "003", "--out", run_dir / "papers", "--executor", "serial"), "--out",
                   "outside run directories")  # fmt: skip
    assert snapshot(run_dir) == before and not (run_dir / "nested").exists()
