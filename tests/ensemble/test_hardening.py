"""Every run either succeeds or fails with one clear line, and no table is ever silently wrong (issue 13).

Each test provokes one class of failure through the command line, as a user or a hostile tester would,
and checks: exit code, one line on stderr naming the problem, no traceback, no debris, and tables that are
right (bit-identical to a clean run) wherever a run goes on. Process faults use real processes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ensemble
from ensemble import MemoryStore, parse_spec, execute
from tests.helpers import assert_tables_identical, read_tables, run_cli, small_spec


def one_line_error(res, *words, code=2):
    """Exit ``code``, one ``ensemble:`` line on stderr holding every word, and no traceback."""
    err = res.stderr.strip()
    assert res.returncode == code, (res.returncode, res.stdout[-500:], err[-2000:])
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.startswith("ensemble:")]
    assert len(lines) == 1, err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def spec_file(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def serial_run(spec: Path, out: Path, *extra) -> subprocess.CompletedProcess:
    return run_cli("run", spec, "--out", out, "--executor", "serial", "--no-progress", *extra)


# -- reports for every shape of sweep, through the command line --------------------------------------------


@pytest.mark.parametrize("sweep", ["", "[sweep]\nW = [3.0]\n"], ids=["no sweep", "one W"])
def test_front_run_and_fit_without_a_W_sweep(tmp_path, sweep):
    text = small_spec().replace("[sweep]\nW = [2.0, 6.0]\n", sweep)
    res = serial_run(spec_file(tmp_path, text), tmp_path / "run")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "Front fits" in res.stdout and "W*" not in res.stdout  # no crossing to report without a W sweep
    res = run_cli("fit", tmp_path / "run")
    assert res.returncode == 0 and "Front fits" in res.stdout, res.stderr
    res = run_cli("plot", tmp_path / "run")
    assert res.returncode == 0 and "fig4_front.png" in res.stdout, res.stderr


# -- partials bound to their run ---------------------------------------------------------------------------


def _partials(out: Path) -> list[Path]:
    return sorted((out / "partials").rglob("*.npz"))


def test_partial_of_another_seed_is_set_aside_not_merged(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert serial_run(spec_file(tmp_path, small_spec(), "a.toml"), a).returncode == 0
    other = small_spec().replace("seed = 99", "seed = 100")
    assert serial_run(spec_file(tmp_path, other, "b.toml"), b).returncode == 0
    reference = read_tables(a)
    # the same point key and block range, a valid checksum, from a run with another seed
    target = _partials(a)[0]
    shutil.copy(b / target.relative_to(a), target)
    one_line_error(run_cli("fit", a), "does not belong to this run", "another seed", "--resume")
    assert target.with_suffix(".foreign").exists()  # kept for inspection, never merged
    res = serial_run(a / "spec.toml", a, "--resume")
    assert res.returncode == 0 and "ran 8 realizations" in res.stdout, res.stderr
    assert_tables_identical(read_tables(a), reference)


def test_partial_copied_under_another_block_range_is_not_merged_twice(tmp_path):
    out = tmp_path / "run"
    assert serial_run(spec_file(tmp_path, small_spec()), out).returncode == 0
    reference = read_tables(out)
    first = _partials(out)[0]
    shutil.copy(first, first.with_name(first.name.replace("b000000", "b000099")))  # a second copy, another name
    res = run_cli("fit", out)
    assert res.returncode == 0, res.stderr
    assert_tables_identical(read_tables(out), reference)  # ranges come from the contents: each block once


@pytest.mark.slow  # CI time (< 30 min): siblings cover the path in CI; -m slow runs it
def test_partial_from_a_run_with_other_sample_times_is_set_aside(tmp_path):
    short, long = tmp_path / "short", tmp_path / "long"
    assert serial_run(spec_file(tmp_path, small_spec(stop=40.0), "a.toml"), short).returncode == 0
    assert serial_run(spec_file(tmp_path, small_spec(stop=80.0), "b.toml"), long).returncode == 0
    reference = read_tables(long)
    victim = _partials(long)[2]
    shutil.copy(short / victim.relative_to(long), victim)  # same point key (times are not in it), other times
    res = serial_run(long / "spec.toml", long, "--resume")
    assert res.returncode == 0 and "other parameters or sample times" in res.stdout, res.stderr
    assert_tables_identical(read_tables(long), reference)


def test_stray_entries_in_partials_are_ignored(tmp_path):
    out = tmp_path / "run"
    assert serial_run(spec_file(tmp_path, small_spec()), out).returncode == 0
    reference = read_tables(out)
    (out / "partials" / "notes.txt").write_text("mine")
    (out / "partials" / "junk").mkdir()
    point = _partials(out)[0].parent
    (point / "README").write_text("x")
    (point / "sub.npz").mkdir()
    res = serial_run(out / "spec.toml", out, "--resume")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "ignored" in res.stdout
    assert_tables_identical(read_tables(out), reference)
    assert run_cli("fit", out).returncode == 0


# -- duplicate points --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sweep, field",
    [("[sweep]\nW = [2, 2.0]\n", "sweep.W"), ("[sweep]\nW = [1.0, -0.0, 0.0]\n", "sweep.W")],
    ids=["2 and 2.0", "-0.0 and 0.0"],
)
def test_duplicate_points_after_normalization_are_refused(tmp_path, sweep, field):
    res = serial_run(spec_file(tmp_path, small_spec().replace("[sweep]\nW = [2.0, 6.0]\n", sweep)), tmp_path / "run")
    one_line_error(res, field, "same point")
    assert not (tmp_path / "run").exists()


def test_duplicate_zip_rows_are_refused(tmp_path):
    text = 'kernel = "xxz_bubble"\nseed = 1\nrealizations = 2\n[sweep.zip]\nL = [8, 8]\nW = [2, 2.0]\n'
    one_line_error(serial_run(spec_file(tmp_path, text), tmp_path / "run"), "sweep.zip", "same point")


# -- one writer per run directory ----------------------------------------------------------------------------

from tests.ensemble.gated_kernel import SPEC as GATED_SPEC  # noqa: E402
from tests.ensemble.gated_kernel import Gate  # noqa: E402
from tests.helpers import wait_until  # noqa: E402


def _gated(tmp_path: Path, allow: int, n: int = 20, seed: int = 99) -> tuple[Path, Gate]:
    """A spec of 2 x n one-realization tasks whose realizations wait at a gate that lets ``allow`` through."""
    gate = Gate(tmp_path / f"gate-{seed}").create(allow)
    return spec_file(tmp_path, GATED_SPEC.format(seed=seed, n=n, gate=gate.path), f"gated-{seed}.toml"), gate


def _start(spec: Path, out: Path, *extra) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "ensemble", "run", str(spec), "--out", str(out), "--executor", "serial", "--no-progress", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_partials(out: Path, n: int, proc) -> None:
    wait_until(lambda: len(_partials(out)) >= n, f"{n} partials in {out}", proc)


def _reference(spec: Path):
    return execute(parse_spec(spec.read_text()), MemoryStore()).tables


def test_second_writer_is_refused_naming_the_holder_and_the_run_completes(tmp_path):
    (spec, gate), out = _gated(tmp_path, allow=2), tmp_path / "run"
    first = _start(spec, out)
    _wait_for_partials(out, 2, first)  # and it waits at the gate: it holds the run until the test opens it
    second = run_cli("run", spec, "--out", out, "--executor", "serial", "--resume", "--no-progress")
    line = one_line_error(second, "in use by process", str(first.pid))
    assert "ensemble run" in line  # the holder's command
    refit = run_cli("fit", out)
    one_line_error(refit, "in use by process")
    gate.release()
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert_tables_identical(read_tables(out), _reference(spec))


def test_lock_of_a_killed_driver_does_not_block_resume_and_is_named(tmp_path):
    (spec, gate), out = _gated(tmp_path, allow=3), tmp_path / "run"
    proc = _start(spec, out)
    _wait_for_partials(out, 3, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    holder = json.loads((out / ".lock").read_text())
    assert holder["pid"] == proc.pid  # the stale record is still there ...
    gate.release()
    res = serial_run(spec, out, "--resume")  # ... but the lock went with the process
    assert res.returncode == 0, res.stderr
    assert f"process {proc.pid}" in res.stderr and "ended without releasing the run" in res.stderr
    assert_tables_identical(read_tables(out), _reference(spec))
    assert (out / ".lock").read_text() == ""  # a clean end leaves no record: the next holder is not warned


# -- refits record their settings; figures follow the tables -------------------------------------------------


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_refit_is_recorded_and_plots_are_redrawn(tmp_path):
    out = tmp_path / "run"
    assert serial_run(spec_file(tmp_path, small_spec()), out).returncode == 0
    assert run_cli("plot", out).returncode == 0
    before = (out / "plots" / "fig4_front.png").read_bytes()
    res = run_cli("fit", out, "--window", "8.0", "40.0")
    assert res.returncode == 0 and "redrew" in res.stdout, res.stderr
    assert (out / "plots" / "fig4_front.png").read_bytes() != before
    manifest = json.loads((out / "tables" / "manifest.json").read_text())
    assert manifest["fit"]["window"] == [8.0, 40.0]


def _tabled_fit(out: Path) -> dict:
    return json.loads((out / "tables" / "manifest.json").read_text())["fit"]


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_a_refits_settings_stand_through_extend_and_resume_until_the_spec_changes_its_fit(tmp_path):
    out = tmp_path / "run"
    assert serial_run(spec_file(tmp_path, small_spec()), out).returncode == 0
    spec_starts = read_tables(out)["fits"]["t_start"].dropna()
    assert run_cli("fit", out, "--window", "8.0", "40.0").returncode == 0
    # extend keeps the refit's window, says so, and gives the tables of a fresh run of the grown spec refit alike
    res = run_cli("extend", out, "--more", "8", "--executor", "serial", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "[fit] settings of the last refit kept: window = [8.0, 40.0] (spec: None)" in res.stderr
    assert _tabled_fit(out)["window"] == [8.0, 40.0]
    ref = tmp_path / "ref"
    assert serial_run(spec_file(tmp_path, small_spec(realizations=32), "grown.toml"), ref).returncode == 0
    assert run_cli("fit", ref, "--window", "8.0", "40.0").returncode == 0
    assert_tables_identical(read_tables(out), read_tables(ref))
    # status of an unfinished run (a block lost) computes its provisional fits with the same window
    starts = read_tables(out)["fits"]["t_start"].dropna()
    assert len(starts) and (starts >= 8.0).all() and (spec_starts < 8.0).any()  # the check can tell the two apart
    lost = sorted((out / "partials").rglob("*.npz"))[0]
    lost.unlink()
    provisional = ensemble.open_run(out).status().tables["fits"]["t_start"].dropna()
    assert len(provisional) and (provisional >= 8.0).all()
    # a resume with the run's own spec keeps the window too; one whose [fit] differs takes the spec's, and says so
    assert serial_run(out / "spec.toml", out, "--resume").returncode == 0
    assert _tabled_fit(out)["window"] == [8.0, 40.0]
    assert_tables_identical(read_tables(out), read_tables(ref))
    changed = spec_file(tmp_path, (out / "spec.toml").read_text().replace("min_start = 2.0", "min_start = 3.0"), "c.toml")
    res = serial_run(changed, out, "--resume")
    assert res.returncode == 0 and "the last refit's are not kept: window = [8.0, 40.0] (spec: None)" in res.stderr
    assert _tabled_fit(out)["window"] is None and _tabled_fit(out)["min_start"] == 3.0
    # and --from-spec goes back to the spec's own
    assert run_cli("fit", out, "--window", "8.0", "40.0").returncode == 0
    assert run_cli("fit", out, "--from-spec").returncode == 0 and _tabled_fit(out)["window"] is None


def test_status_uses_the_fit_settings_the_running_driver_reports(tmp_path):
    from ensemble.spec.experiment import parse_spec
    from ensemble.running.status import _tables_fit

    exp = parse_spec(small_spec())
    fit = {"window": [8.0, 40.0]}
    assert _tables_fit(tmp_path, exp, {"fit": fit}).fit.window == (8.0, 40.0)
    assert _tables_fit(tmp_path, exp, {"pid": 1}).fit == exp.fit  # a driver that reports none: the spec's
    assert _tables_fit(tmp_path, exp, {}).fit == exp.fit  # not going, no tables: the spec's


# -- limits checked before anything starts; half-made directories -------------------------------------------


@pytest.mark.parametrize(
    "edit, words",
    [
        ({"[params]\nL = 10": "[params]\nL = 100000"}, ["GiB per realization"]),
        ({"stop = 40.0": "stop = 900000000.0"}, ["per realization"]),
    ],
    ids=["memory", "time"],
)
def test_points_that_cannot_fit_or_finish_are_refused_before_anything(tmp_path, edit, words):
    text = small_spec()
    for a, b in edit.items():
        text = text.replace(a, b)
    spec = spec_file(tmp_path, text)
    one_line_error(serial_run(spec, tmp_path / "run"), *words)
    assert not (tmp_path / "run").exists()
    res = run_cli("validate", spec)
    one_line_error(res, *words)
    assert "per realization" in res.stdout and "CPU-hours" in res.stdout


def test_tasks_that_cannot_end_within_the_limit_are_refused(tmp_path):
    """A task saves its blocks when it ends: 10^10 realizations in one task would save nothing for weeks."""
    spec = spec_file(tmp_path, small_spec(realizations=10**10, batch_size=10**10, block_size=10**8))
    one_line_error(serial_run(spec, tmp_path / "run"), "per task of", "batch_size and block_size <=")
    assert not (tmp_path / "run").exists()
    # the same run cut into short tasks is accepted (negative control)
    res = run_cli("validate", spec_file(tmp_path, small_spec(realizations=10**10, batch_size=10**6, block_size=10**6)))
    assert res.returncode == 0, res.stderr


def test_validate_prints_cost_and_memory(tmp_path):
    res = run_cli("validate", spec_file(tmp_path, small_spec()))
    assert res.returncode == 0, res.stderr
    assert "CPU-hours" in res.stdout and "MiB per realization" in res.stdout


FAILING = """
kernel = "module:tests.ensemble.faulty_kernel"
seed = 3
realizations = 20
batch_size = 10
[params]
threshold = {threshold}
[times]
values = [1.0, 2.0]
"""


def test_a_run_failing_at_once_leaves_no_directory_and_the_fixed_spec_runs(tmp_path):
    out = tmp_path / "run"
    res = serial_run(spec_file(tmp_path, FAILING.format(threshold=2.0)), out)  # every realization fails
    assert res.returncode == 1 and "run failed" in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()
    res = serial_run(spec_file(tmp_path, FAILING.format(threshold=-1.0), "fixed.toml"), out)
    assert res.returncode == 0, res.stderr


def test_a_directory_left_without_finished_blocks_does_not_block_a_fixed_spec(tmp_path):
    out = tmp_path / "run"
    spec, gate = _gated(tmp_path, allow=0)  # no realization may finish
    proc = _start(spec, out)
    wait_until(lambda: (out / "run.json").exists() and gate.taken() >= 1, "the first realization to start", proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert not _partials(out)
    fixed, open_gate = _gated(tmp_path, allow=10**6, n=4, seed=7)
    res = run_cli("run", fixed, "--out", out, "--executor", "serial", "--no-progress", "--resume")
    assert res.returncode == 0 and "starting over" in res.stderr, res.stderr


# -- one line instead of a traceback ---------------------------------------------------------------------------

BAD_MODULES = {
    "raises": "raise RuntimeError('cannot initialize the GPU')\n",
    "syntax": "def broken(:\n",
    "keyerror": "import os\nos.environ['NO_SUCH_VARIABLE_SET']\n",
}


@pytest.mark.parametrize("kind", sorted(BAD_MODULES) + ["empty", "malformed"])
def test_user_kernel_that_cannot_be_imported(tmp_path, kind):
    if kind in BAD_MODULES:
        (tmp_path / f"userkernel_{kind}.py").write_text(BAD_MODULES[kind])
        ref = f"module:userkernel_{kind}"
    else:
        ref = {"empty": "module:", "malformed": "module:a..b"}[kind]
    spec = spec_file(tmp_path, f'kernel = "{ref}"\nseed = 1\nrealizations = 2\n')
    res = subprocess.run([sys.executable, "-m", "ensemble", "validate", str(spec)], capture_output=True, text=True,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})  # fmt: skip
    one_line_error(res, "kernel")


def test_spec_that_is_not_utf8(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_bytes(small_spec().encode() + b"# caf\xe9\n")
    one_line_error(serial_run(spec, tmp_path / "run"), "UTF-8")


@pytest.mark.parametrize("name", ["../../escape", "/tmp/abs", "..", "a/b"])
def test_run_name_must_be_one_path_component(tmp_path, name):
    spec = spec_file(tmp_path, small_spec().replace('name = "small"', f'name = "{name}"'))
    res = subprocess.run([sys.executable, "-m", "ensemble", "run", str(spec), "--executor", "serial"],
                         capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    one_line_error(res, "name")
    assert not (tmp_path / "runs").exists()


def test_output_directory_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    one_line_error(serial_run(spec_file(tmp_path, small_spec()), blocker / "run"), "not a directory")


def _mount_tmpfs(target: Path, options: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    target.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True).returncode == 0


def test_read_only_output_directory(tmp_path):
    ro = tmp_path / "ro"
    if not _mount_tmpfs(ro, "size=1m,ro"):
        pytest.skip("needs root to mount a read-only file system (root writes through chmod)")
    try:
        one_line_error(serial_run(spec_file(tmp_path, small_spec()), ro / "run"), "cannot write", "writable --out")
    finally:
        subprocess.run(["umount", str(ro)])


def test_full_disk_before_and_during_the_run(tmp_path):
    small = tmp_path / "small"
    if not _mount_tmpfs(small, "size=8m"):
        pytest.skip("needs root to mount a small file system")
    try:
        big = small_spec(realizations=8000, batch_size=4, block_size=1, L=30, stop=40.0)
        one_line_error(serial_run(spec_file(tmp_path, big, "big.toml"), small / "run"), "MiB free")
        assert not (small / "run").exists()
        # the estimate fits, but another writer fills the disk mid-run: a clear message, exit 1, a resumable directory
        spec, gate = _gated(tmp_path, allow=4, n=40)
        out = small / "run"
        proc = _start(spec, out)
        _wait_for_partials(out, 4, proc)
        with open(small / "filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        gate.release()
        _, err = proc.communicate(timeout=600)
        res = subprocess.CompletedProcess(proc.args, proc.returncode, "", err)
        one_line_error(res, "no space left", "--resume", code=1)
        (small / "filler").unlink()
        res = serial_run(out / "spec.toml", out, "--resume")
        assert res.returncode == 0 and "resumed" in res.stdout, res.stderr
        assert_tables_identical(read_tables(out), _reference(spec))
    finally:
        subprocess.run(["umount", str(small)])


def test_full_disk_mid_run_in_process(tmp_path, monkeypatch):
    """The same class without root: the partial writer raises ENOSPC after a few partials."""
    import errno

    from ensemble import open_run_dir
    from ensemble.store.files import StorageError

    exp = parse_spec(small_spec())
    store = open_run_dir(tmp_path / "run", exp, resume=False)
    real, calls = np.savez, {"n": 0}

    def full(*a, **k):
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*a, **k)

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(StorageError, match="no space left"):
        execute(exp, store)
    store.close()
    monkeypatch.setattr(np, "savez", real)
    assert not list((tmp_path / "run").rglob("*.tmp"))  # no half-written file
    result = execute(exp, open_run_dir(tmp_path / "run", exp, resume=True))
    assert result.realizations_skipped == 16
    assert_tables_identical(result.tables, execute(exp, MemoryStore()).tables)


def test_files_respect_the_umask(tmp_path):
    out = tmp_path / "run"
    res = subprocess.run(["sh", "-c", f"umask 022 && {sys.executable} -m ensemble run {spec_file(tmp_path, small_spec())} "
                          f"--out {out} --executor serial --no-progress"], capture_output=True, text=True)  # fmt: skip
    assert res.returncode == 0, res.stderr
    for p in [out / "run.json", *_partials(out), out / "tables" / "summary.parquet"]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p


# -- query, plot and cluster options ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("q")
    out = tmp / "run"
    assert serial_run(spec_file(tmp, small_spec()), out).returncode == 0
    return out


@pytest.mark.parametrize("sql", ["", "   ", "-- only a comment", "/* nothing */"])
def test_query_without_a_statement(finished, sql):
    one_line_error(run_cli("query", finished, sql), "SQL", "no statement")


def test_query_is_read_only_unless_asked(finished, tmp_path):
    target = tmp_path / "out.csv"
    one_line_error(run_cli("query", finished, f"COPY summary TO '{target}'"), "refused")
    assert not target.exists()
    one_line_error(run_cli("query", finished, "SELECT * FROM read_csv('/etc/passwd')"), "refused")
    res = run_cli("query", finished, f"COPY (SELECT fit, window_source FROM fits) TO '{target}'", "--writable", tmp_path)
    assert res.returncode == 0 and target.exists(), res.stderr
    res = run_cli("query", finished, "SELECT window_source, count(*) AS n FROM fits WHERE fit = 'front' GROUP BY 1")
    assert res.returncode == 0 and "auto" in res.stdout, res.stderr


def test_query_and_plot_on_directories_that_are_not_runs(tmp_path):
    one_line_error(run_cli("query", tmp_path / "missing", "SELECT 1"), "does not exist")
    one_line_error(run_cli("query", tmp_path, "SELECT 1"), "not a run directory")
    one_line_error(run_cli("plot", tmp_path), "not a run directory")
    one_line_error(run_cli("fit", tmp_path), "not a run directory")


def test_scheduler_file_with_junk(tmp_path):
    junk = tmp_path / "sched.json"
    junk.write_text("this is not json {")
    one_line_error(run_cli("run", spec_file(tmp_path, small_spec()), "--out", tmp_path / "run", "--scheduler", junk),
                   "scheduler file")  # fmt: skip
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("memory", ["lots", "12 parsecs", "0"])
def test_memory_option_that_cannot_be_parsed(tmp_path, memory):
    one_line_error(run_cli("job-script", "--cluster", "slurm", "--memory", memory), "memory")


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_unreachable_batch_controller_times_out_with_one_line(tmp_path):
    """A fake scontrol that never answers stands in for a SLURM controller that is down: it is asked once, given
    up on after its timeout, and nothing is submitted or written (counted: the fake logs every call)."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    for tool in ("scontrol", "sbatch", "squeue", "scancel"):
        (bin_dir / tool).write_text(f"#!/bin/sh\necho {tool} >> {calls}\nsleep 60\n")
        (bin_dir / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    res = subprocess.run([sys.executable, "-m", "ensemble", "run", str(spec_file(tmp_path, small_spec())), "--out",
                          str(tmp_path / "run"), "--cluster", "slurm"], capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    one_line_error(res, "SLURM controller", "did not answer within 15 s")
    assert calls.read_text().split() == ["scontrol"] and not (tmp_path / "run").exists()


USER_KERNEL = """
from dataclasses import dataclass, field
import numpy as np
@dataclass(frozen=True)
class Params:
    x: float = 1.0
    times: tuple = field(default=(1.0,))
    def __post_init__(self):
        if self.x > 5:
            raise ValueError("x too big")
def warmup_params(): return Params()
def schema(p): return {"y": {"t": np.asarray(p.times)}}
def sample(p, rng): return rng.normal()
def realize(p, d):
    if {fail}:
        raise KeyError("boom")
    return {"y": np.full(len(p.times), d)}
"""


@pytest.mark.parametrize("case", ["params raise", "warm-up fails"])
def test_user_kernel_failing_in_its_own_code(tmp_path, case):
    fail = case == "warm-up fails"
    (tmp_path / "userk.py").write_text(USER_KERNEL.replace("{fail}", str(fail)))
    x = 1.0 if fail else 9.0
    spec = spec_file(tmp_path, f'kernel = "module:userk"\nseed = 1\nrealizations = 4\n[params]\nx = {x}\n[times]\nvalues = [1.0]\n')
    res = subprocess.run([sys.executable, "-m", "ensemble", "run", str(spec), "--out", str(tmp_path / "run"), "--executor",
                          "serial", "--no-progress"], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)})  # fmt: skip
    if fail:
        one_line_error(res, "warm-up point", "KeyError", code=1)
    else:
        one_line_error(res, "params", "ValueError: x too big")
    assert not (tmp_path / "run").exists()


def test_query_errors_are_one_line(finished):
    one_line_error(run_cli("query", finished, "SELEC 1"), "query failed")
    one_line_error(run_cli("query", finished, "SELECT * FROM nosuchtable"), "query failed", "tables: fit_windows, fits, summary")
