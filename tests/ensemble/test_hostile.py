"""The surfaces added since the first hardening round, under hostile use (issue 22).

Each case ends in success, or in one line naming what is wrong with exit code 2 (1 for an environment
failure), never a traceback, never a silently wrong or partial table, never a lost finished block. Runs that
are interrupted or observed wait at a gate (tests/ensemble/gated_kernel.py), so each happens after exactly k
finished tasks, whatever the machine's speed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import ensemble
from ensemble import MemoryStore, execute, parse_spec
from tests.ensemble.gated_kernel import SPEC as GATED
from tests.ensemble.gated_kernel import Gate
from tests.ensemble.test_hardening import one_line_error, serial_run, spec_file
from tests.helpers import HANG_GUARD, assert_tables_identical, partials, read_tables, run_cli, small_spec, wait_until

ROOT = Path(__file__).resolve().parents[2]


def gated(tmp_path: Path, allow: int, n: int = 10, seed: int = 21, name: str = "g") -> tuple[Path, Gate]:
    gate = Gate(tmp_path / f"gate-{name}").create(allow)
    return spec_file(tmp_path, GATED.format(seed=seed, n=n, gate=gate.path), f"{name}.toml"), gate


def start(*args, executor: str = "serial") -> subprocess.Popen:
    cmd = [sys.executable, "-m", "ensemble", *map(str, args), "--no-progress"]
    cmd += ["--executor", "serial"] if executor == "serial" else ["--workers", "2"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=HANG_GUARD)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def reference(spec_text: str):
    return execute(parse_spec(spec_text), MemoryStore()).tables


def table_bytes(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((run_dir / "tables").glob("*.parquet"))}


# -- concurrent commands on one run -------------------------------------------------------------------------


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_two_extends_at_once_and_extend_while_run_goes(tmp_path):
    spec, gate = gated(tmp_path, allow=10**6, n=4)
    out = tmp_path / "run"
    assert serial_run(spec, out).returncode == 0
    gate.set(gate.taken() + 2)  # the first extend gets 2 realizations, then waits
    first = start("extend", out, "--more", "3")
    wait_until(lambda: gate.taken() >= gate.allowed() + 1, "the first extend to wait at the gate", first)
    second = run_cli("extend", out, "--more", "5")
    one_line_error(second, "in use by process", str(first.pid), "ensemble extend")
    rerun = run_cli("run", out / "spec.toml", "--out", out, "--resume", "--executor", "serial", "--no-progress")
    one_line_error(rerun, "in use by process")
    gate.release()
    res = finish(first)
    assert res.returncode == 0, res.stderr
    grown = json.loads((out / "run.json").read_text())
    assert [p["realizations"] for p in grown["points"]] == [7, 7]  # the refused extend changed nothing
    assert_tables_identical(read_tables(out), reference(spec.read_text().replace("realizations = 4", "realizations = 7")))


def test_query_status_and_open_run_while_a_run_writes(tmp_path):
    spec, gate = gated(tmp_path, allow=3)
    out = tmp_path / "run"
    proc = start("run", spec, "--out", out)
    try:
        wait_until(lambda: len(partials(out)) == 3, "3 finished tasks", proc)
        one_line_error(run_cli("query", out, "SELECT count(*) FROM summary"), "no tables yet")
        st = run_cli("status", out)
        assert st.returncode == 0 and "running" in st.stdout and "3/20 realizations" in st.stdout, st.stderr
        r = ensemble.open_run(out)
        assert r.status().running and r.status().done == 3
        with pytest.raises(ensemble.RunDirectoryError, match="no tables"):
            r.tables
        gate.release()
        assert finish(proc).returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # a finished run being grown: readers see the old tables, whole, until the new ones replace them atomically
    before = read_tables(out)
    gate.set(gate.taken() + 1)
    proc = start("extend", out, "--more", "2")
    try:
        wait_until(lambda: gate.taken() > gate.allowed(), "the extend to wait at the gate", proc)
        res = run_cli("query", out, "SELECT count(*) AS n FROM summary")
        assert res.returncode == 0 and str(len(before["summary"])) in res.stdout, res.stderr
        assert_tables_identical(ensemble.open_run(out).tables, before)
        gate.release()
        assert finish(proc).returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("how", [pytest.param("copied", marks=pytest.mark.slow), "moved"])  # (slow: CI time)
def test_a_run_directory_copied_or_moved_resumes_there(tmp_path, how):
    spec, gate = gated(tmp_path, allow=5)
    out = tmp_path / "run"
    proc = start("run", spec, "--out", out)
    wait_until(lambda: len(partials(out)) == 5, "5 finished tasks", proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    there = tmp_path / "elsewhere" / "deeper" / "run"
    there.parent.mkdir(parents=True)
    (shutil.copytree if how == "copied" else shutil.move)(out, there)
    gate.release()
    res = run_cli("run", there / "spec.toml", "--out", there, "--resume", "--executor", "serial", "--no-progress")
    assert res.returncode == 0 and "resumed: 5 realizations" in res.stdout, res.stderr
    assert_tables_identical(read_tables(there), reference(spec.read_text()))
    assert run_cli("fit", there).returncode == 0 and run_cli("status", there).returncode == 0


# -- signals: a clear line, a resumable directory, the same bytes after the resume ---------------------------


@pytest.mark.cluster
@pytest.mark.parametrize("sig, code, word", [pytest.param(signal.SIGTERM, 143, "terminated (SIGTERM)", marks=pytest.mark.slow),
                                              (signal.SIGINT, 130, "interrupted")])  # fmt: skip  (slow: CI time)
def test_driver_signalled_on_the_local_cluster_resumes_to_the_same_bytes(tmp_path, sig, code, word):
    spec, gate = gated(tmp_path, allow=6)
    out, clean = tmp_path / "run", tmp_path / "clean"
    proc = start("run", spec, "--out", out, executor="local")
    wait_until(lambda: len(partials(out)) == 6 and gate.taken() == 8, "6 tasks done, one waiting per worker", proc)
    proc.send_signal(sig)
    res = finish(proc)
    line = one_line_error(res, word, "6 finished task(s) are kept", "--resume", code=code)
    assert str(out) in line and len(partials(out)) == 6 and not (out / "tables").exists()
    gate.release()
    res = run_cli("run", spec, "--out", out, "--resume", "--workers", "2", "--no-progress", cwd=ROOT)
    assert res.returncode == 0 and "resumed: 6 realizations" in res.stdout, res.stderr
    assert run_cli("run", spec, "--out", clean, "--workers", "2", "--no-progress", cwd=ROOT).returncode == 0
    assert table_bytes(out) == table_bytes(clean) and table_bytes(out)


def test_terminated_before_any_block_leaves_nothing(tmp_path):
    spec, gate = gated(tmp_path, allow=0)
    out = tmp_path / "run"
    proc = start("run", spec, "--out", out)
    wait_until(lambda: gate.taken() == 1, "the first realization to wait", proc)
    proc.send_signal(signal.SIGTERM)
    one_line_error(finish(proc), "terminated (SIGTERM)", "no block had finished", code=143)
    assert not out.exists()


# -- tampering ------------------------------------------------------------------------------------------------


@pytest.fixture
def finished(tmp_path):
    out = tmp_path / "run"
    spec = spec_file(tmp_path, small_spec())
    assert serial_run(spec, out).returncode == 0
    return out, read_tables(out)


@pytest.mark.parametrize("target", ["outside", "other run"])
def test_partial_replaced_by_a_symlink_is_set_aside(tmp_path, finished, target):
    out, clean = finished
    victim = partials(out)[2]
    if target == "outside":
        outside = tmp_path / "outside.npz"
        outside.write_bytes(victim.read_bytes())  # even a perfect copy: the run does not own what a link points to
    else:
        other = tmp_path / "other"
        shutil.copytree(out, other)
        outside = other / victim.relative_to(out)
    victim.unlink()
    victim.symlink_to(outside)
    one_line_error(run_cli("fit", out), "blocks missing", "symbolic link", "--resume")
    res = serial_run(out / "spec.toml", out, "--resume")
    assert res.returncode == 0 and "ran 8 realizations" in res.stdout, res.stderr  # the task of 2 blocks again
    assert_tables_identical(read_tables(out), clean)
    assert outside.exists()  # the link's target is never touched


def test_edited_run_json_is_refused_by_every_reader_and_writer(finished):
    out, _ = finished
    doc = json.loads((out / "run.json").read_text())
    doc["points"][0]["block_size"] = 3
    (out / "run.json").write_text(json.dumps(doc, indent=1))
    for res in (run_cli("fit", out), run_cli("status", out), run_cli("plot", out),
                serial_run(out / "spec.toml", out, "--resume"), run_cli("extend", out, "--more", "4")):  # fmt: skip
        one_line_error(res, "run.json was changed", "checksum")
    with pytest.raises(ensemble.RunDirectoryError, match="checksum"):
        ensemble.open_run(out)
    res = run_cli("query", out.parent, "SELECT run, problem FROM runs")  # a catalog names it, and leaves it out
    assert res.returncode != 0 or "checksum" in res.stdout


def test_whitespace_in_run_json_is_not_an_edit(finished):
    out, clean = finished
    doc = json.loads((out / "run.json").read_text())
    (out / "run.json").write_text(json.dumps(doc, indent=4, sort_keys=True))
    assert run_cli("fit", out).returncode == 0
    assert_tables_identical(read_tables(out), clean)


def test_edited_spec_toml_does_not_change_what_the_run_is(finished):
    out, clean = finished
    (out / "spec.toml").write_text((out / "spec.toml").read_text().replace("seed = 99", "seed = 5"))
    res = run_cli("fit", out)  # readers use the spec the run recorded
    assert res.returncode == 0, res.stderr
    assert_tables_identical(read_tables(out), clean)
    assert all(p.suffix == ".npz" for p in (out / "partials").rglob("*.*"))  # nothing set aside
    one_line_error(serial_run(out / "spec.toml", out, "--resume"), "another kernel or seed")  # as a new spec: refused


@pytest.mark.parametrize("damage", ["deleted", "edited", "a file"])
def test_history_damaged_does_not_stop_growth(finished, damage):
    out, _ = finished
    assert run_cli("extend", out, "--more", "4", "--executor", "serial", "--no-progress").returncode == 0
    history = out / "history"
    if damage == "deleted":
        shutil.rmtree(history)
    elif damage == "edited":
        for p in history.iterdir():
            p.write_text("garbage = [")
    else:
        shutil.rmtree(history)
        history.write_text("not a directory")
    res = run_cli("extend", out, "--more", "4", "--executor", "serial", "--no-progress")
    if damage == "a file":
        one_line_error(res, "history", code=1)
        assert json.loads((out / "run.json").read_text())["points"][0]["realizations"] == 28  # nothing half-done
    else:
        assert res.returncode == 0, res.stderr
        assert_tables_identical(read_tables(out), reference(small_spec(realizations=32)))


def test_deleted_tables_are_rebuilt_by_fit_and_by_resume(finished):
    out, clean = finished
    before = table_bytes(out)
    shutil.rmtree(out / "tables")
    with pytest.raises(ensemble.RunDirectoryError, match="ensemble fit"):
        ensemble.open_run(out).tables
    assert run_cli("fit", out).returncode == 0
    assert table_bytes(out) == before
    shutil.rmtree(out / "tables")
    res = serial_run(out / "spec.toml", out, "--resume")
    assert res.returncode == 0 and "resumed: 48 realizations" in res.stdout
    assert table_bytes(out) == before


def _rebind(path: Path, **changes) -> None:
    """Rewrite a partial's binding (and its checksum, so only the binding differs)."""
    import numpy as np

    from ensemble.store.partials import checksum as _checksum

    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    bound = {**json.loads(str(arrays["binding"])), **changes}
    arrays["binding"] = np.array(json.dumps(bound, sort_keys=True))
    arrays.pop("checksum")
    arrays["checksum"] = np.array(_checksum(arrays))
    np.savez(path, **arrays)


def test_partials_from_another_code_version(finished):
    out, clean = finished
    files = partials(out)
    _rebind(files[0], format=3)  # a newer format this version cannot read: set aside, recomputed
    _rebind(files[1], version="0.0.1")  # an older version's block: used, and the mix is said
    res = serial_run(out / "spec.toml", out, "--resume")
    assert res.returncode == 0, res.stderr
    assert "newer version" in res.stdout and "different versions of mbl-ensemble (0.0.1" in res.stdout
    assert_tables_identical(read_tables(out), clean)
    assert "0.0.1" in json.loads((out / "tables" / "manifest.json").read_text())["partials_from"]


# -- growth edge cases --------------------------------------------------------------------------------------------


def test_extend_by_one_keeps_every_complete_block(tmp_path):
    text = small_spec(realizations=26, batch_size=8, block_size=4)  # blocks of 4, the last of 2
    out = tmp_path / "run"
    assert serial_run(spec_file(tmp_path, text), out).returncode == 0
    res = run_cli("extend", out, "--more", "1", "--executor", "serial", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "ran 6 realizations" in res.stdout  # only the short last block of each point, now of 3
    assert res.stdout.count("the run grew: its last block held 2 realizations and now holds 3") == 2
    assert_tables_identical(read_tables(out), reference(small_spec(realizations=27, batch_size=8, block_size=4)))


def test_extend_a_run_with_realizations_per_value(tmp_path):
    text = small_spec().replace("realizations = 24", 'realizations = { by = "W", values = [24, 12] }')
    out = tmp_path / "run"
    assert serial_run(spec_file(tmp_path, text), out).returncode == 0
    assert run_cli("extend", out, "--more", "4", "--executor", "serial", "--no-progress").returncode == 0
    assert_tables_identical(read_tables(out), reference(text.replace("[24, 12]", "[28, 16]")))
    one_line_error(run_cli("extend", out, "--realizations", "20"), "can grow, not shrink")


@pytest.mark.parametrize("more, words", [("0", ["--more", ">= 1"]), ("-3", ["--more", ">= 1"]), ("abc", ["--more"]),
                                         (str(10**15), ["realizations", "at most"])])  # fmt: skip
def test_extend_by_nothing_negative_or_absurd_is_refused_and_changes_nothing(finished, more, words):
    out, clean = finished
    before = {p: p.read_bytes() for p in (out / "run.json", out / "spec.toml")}
    one_line_error(run_cli("extend", out, "--more", more), *words)
    assert {p: p.read_bytes() for p in before} == before and not (out / "history").exists()


def test_points_dropped_and_added_again_reuse_their_blocks(tmp_path, finished):
    out, clean = finished
    one = spec_file(tmp_path, small_spec().replace("W = [2.0, 6.0]", "W = [2.0]"), "one.toml")
    one_line_error(serial_run(one, out, "--resume"), "--drop-points")
    assert serial_run(one, out, "--resume", "--drop-points").returncode == 0
    res = serial_run(spec_file(tmp_path, small_spec(), "both.toml"), out, "--resume")
    assert res.returncode == 0 and "resumed: 48 realizations" in res.stdout, res.stderr
    assert_tables_identical(read_tables(out), clean)


# -- the catalog ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    """24 runs (two kernels) beside junk directories and files, a run with a broken record, a run without
    tables, a symlink loop and a symlink to a run kept elsewhere."""
    root = tmp_path_factory.mktemp("catalog")
    base = ensemble.run(small_spec(realizations=8, batch_size=8, block_size=4), out=root / "src" / "a", executor="serial")
    ipr = ensemble.run('kernel = "rmt_bath"\nseed = 1\nrealizations = 4\n[params]\nl_b = 3\nn_lioms = 2\n',
                       out=root / "src" / "b", executor="serial")  # fmt: skip
    cat = root / "cat"
    for i in range(24):
        shutil.copytree(base.path if i % 2 else ipr.path, cat / f"group{i % 3}" / f"run{i:02d}")
    (cat / "junk" / "deeper").mkdir(parents=True)
    (cat / "junk" / "notes.txt").write_text("x")
    (cat / "junk" / "deeper" / "run.json.bak").write_text("{")
    shutil.copytree(base.path, cat / "broken")
    (cat / "broken" / "run.json").write_text("{ not json")
    shutil.copytree(base.path, cat / "running")
    shutil.rmtree(cat / "running" / "tables")
    (cat / "junk" / "loop").symlink_to(cat)
    (cat / "linked").symlink_to(root / "src" / "a")
    return cat, len(base.summary), len(ipr.summary)


def test_catalog_of_dozens_of_runs_with_junk_broken_runs_and_a_link_loop(catalog):
    cat, n_front, n_ipr = catalog
    res = run_cli("query", cat, "SELECT count(DISTINCT run) AS runs, count(*) AS rows FROM summary")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[-2:] == ["25", str(13 * n_front + 12 * n_ipr)]  # 24 copies and the linked run
    assert "2 of 27 runs are not in the tables" in res.stderr and "broken" in res.stderr and "running" in res.stderr
    runs = ensemble.query(cat, "SELECT run, problem FROM runs ORDER BY run")
    assert len(runs) == 27 and runs.problem.notna().sum() == 2
    assert "not readable JSON" in runs.set_index("run").problem["broken"]


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM glob('/etc/*')", "SELECT * FROM read_parquet('*/tables/*.parquet')",
    "ATTACH 'x.db' AS y", "INSTALL httpfs", "LOAD httpfs", "SET enable_external_access = true",
    "SELECT 1; COPY (SELECT 1) TO 'x.csv'", "SELECT * FROM read_text('/etc/hostname')",
])  # fmt: skip
def test_sql_cannot_reach_files(catalog, sql, tmp_path):
    cat, _, _ = catalog
    res = subprocess.run([sys.executable, "-m", "ensemble", "query", str(cat), sql], capture_output=True, text=True,
                         cwd=tmp_path, timeout=HANG_GUARD)  # fmt: skip
    one_line_error(res, "query")
    assert not list(tmp_path.iterdir())


def test_several_statements_and_very_long_sql(catalog):
    cat, _, _ = catalog
    res = run_cli("query", cat, "SELECT 1 AS a; SELECT 2 AS b")
    assert res.returncode == 0 and res.stdout.split() == ["b", "2"], res.stderr  # the last statement's result
    long = "SELECT count(*) AS x FROM runs WHERE run IN (" + ", ".join(["'group0/run00'"] * 6000) + ")"  # 90 kB
    res = run_cli("query", cat, long)
    assert res.returncode == 0 and res.stdout.split() == ["x", "1"], res.stderr[-500:]
    deep = "SELECT " + " + ".join(["1"] * 20_000) + " AS x"  # nested past DuckDB's parser: one line, not a traceback
    one_line_error(run_cli("query", cat, deep), "query failed", "expression depth")
    with pytest.raises(ensemble.UsageError, match="at most"):
        ensemble.query(cat, "SELECT 1 " + " " * 2_000_000)


@pytest.mark.slow  # CI time (< 30 min): siblings cover the path in CI; -m slow runs it
def test_writable_copy_goes_outside_the_runs_only(catalog, tmp_path):
    cat, _, _ = catalog
    target = tmp_path / "export.csv"
    res = run_cli("query", cat, f"COPY (SELECT run, observable FROM summary LIMIT 5) TO '{target}'", "--writable", tmp_path)
    assert res.returncode == 0 and target.exists(), res.stderr
    run = cat / "group0" / "run00"
    before = (run / "tables" / "summary.parquet").read_bytes()
    for inside in (run / "tables" / "summary.parquet", run / "x.csv", run / "tables" / "*.parquet"):
        one_line_error(run_cli("query", cat, f"COPY (SELECT 1) TO '{inside}'", "--writable", tmp_path), "refused",
                       f"files in {tmp_path} only")  # fmt: skip
    for where in (run, run / "tables", cat):  # a directory in a run, or holding runs, is never handed to DuckDB
        one_line_error(run_cli("query", cat, "SELECT 1", "--writable", where), "--writable", "run director")
    res = subprocess.run([sys.executable, "-m", "ensemble", "query", ".", "COPY summary TO 'tables/summary.parquet'",
                          "--writable"], capture_output=True, text=True, cwd=run, timeout=HANG_GUARD)  # fmt: skip
    one_line_error(res, "--writable", "outside run directories")
    assert (run / "tables" / "summary.parquet").read_bytes() == before


# -- the Python API ------------------------------------------------------------------------------------------------


def test_open_run_on_what_is_not_a_run(tmp_path):
    with pytest.raises(ensemble.RunDirectoryError, match="not a run directory"):
        ensemble.open_run(tmp_path)
    with pytest.raises(ensemble.RunDirectoryError, match="not a run directory"):
        ensemble.open_run(tmp_path / "missing")


def test_to_xarray_of_an_unknown_observable_names_the_known_ones(finished):
    out, _ = finished
    with pytest.raises(ensemble.UsageError) as e:
        ensemble.open_run(out).to_xarray("nope")
    assert e.value.option == "observable" and "Ir" in e.value.allowed


def test_extend_on_a_read_only_directory(tmp_path, finished):
    out, _ = finished
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a read-only file system (root writes through chmod)")
    ro = tmp_path / "ro"
    ro.mkdir()
    assert subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(ro)]).returncode == 0
    try:
        shutil.copytree(out, ro / "run")
        assert subprocess.run(["mount", "-o", "remount,ro", str(ro)]).returncode == 0
        with pytest.raises(ensemble.RunDirectoryError, match="cannot"):
            ensemble.open_run(ro / "run").extend(more=4, executor="serial")
        assert ensemble.open_run(ro / "run").summary is not None  # still readable
        one_line_error(run_cli("extend", ro / "run", "--more", "4"), "cannot")
    finally:
        subprocess.run(["umount", str(ro)])


def test_a_closed_client_is_refused_before_anything(tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        client = Client(cluster)
        client.close()
        with pytest.raises(ensemble.UsageError, match="closed"):
            ensemble.run(small_spec(), out=tmp_path / "run", client=client)
    assert not (tmp_path / "run").exists()


# -- resources: refused before anything starts, with the estimate, or run in bounded memory -----------------------


def test_a_hundred_thousand_points_are_refused_before_any_is_built(tmp_path):
    values = ", ".join(f"{i}.5" for i in range(100_000))
    spec = spec_file(tmp_path, small_spec().replace("W = [2.0, 6.0]", f"W = [{values}]"))
    one_line_error(serial_run(spec, tmp_path / "run"), "100000 points", "at most 20000")
    one_line_error(run_cli("validate", spec), "100000 points")
    assert not (tmp_path / "run").exists()


def _peak_kib(*args) -> int:
    code = ("import resource, sys, ensemble.cli; rc = ensemble.cli.main(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)")  # fmt: skip
    res = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                         timeout=HANG_GUARD)  # fmt: skip
    assert res.returncode in (0, 2), res.stderr
    return int(res.stderr.strip().splitlines()[-1])


def test_a_billion_realizations_are_planned_in_bounded_memory(tmp_path):
    """validate of 10^9 realizations needs no more driver memory than of 10^3 (planning is per block, not per
    realization); the run is refused, with its estimate, where one task would outlast the time limit."""
    small = spec_file(tmp_path, small_spec(realizations=1000, batch_size=1000, block_size=10), "small.toml")
    huge = spec_file(tmp_path, small_spec(realizations=10**9, batch_size=10**7, block_size=10**7), "huge.toml")
    assert _peak_kib("validate", huge) < 1.25 * _peak_kib("validate", small)
    slow = huge.read_text().replace("L = 10", "L = 1000")
    res = serial_run(spec_file(tmp_path, slow, "slow.toml"), tmp_path / "run")
    one_line_error(res, "estimated")
    assert not (tmp_path / "run").exists()


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_five_megabyte_specs(tmp_path):
    """5 MB of comments: a valid spec, run in bounded memory. 5 MB of sample times: refused with the size of
    the tables they would make."""
    chatty = spec_file(tmp_path, small_spec() + ("# " + "x" * 98 + "\n") * 50_000, "chatty.toml")
    assert chatty.stat().st_size > 5e6
    assert serial_run(chatty, tmp_path / "run").returncode == 0
    times = ", ".join(f"{0.5 + i * 0.05:.2f}" for i in range(600_000))
    big = spec_file(tmp_path, small_spec().replace("start = 0.5\nstop = 40.0\nnum = 12", f"values = [{times}]"), "big.toml")
    assert big.stat().st_size > 5e6
    one_line_error(serial_run(big, tmp_path / "run2"), "times.values", "600000 values", "at most 10000")
    assert not (tmp_path / "run2").exists()
