"""Every failure is one line (issue 33): a scheduler dying mid-run, a signal while a local cluster starts, a
damaged progress record, a style or format that cannot be drawn, a scheduler that is not there. Real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ensemble import MemoryStore, execute, parse_spec
from tests.ensemble.gated_kernel import SPEC as GATED_SPEC
from tests.ensemble.gated_kernel import Gate
from tests.ensemble.test_hardening import one_line_error, serial_run, spec_file
from tests.helpers import HANG_GUARD, assert_tables_identical, partials, read_tables, run_cli, small_spec, wait_until

ROOT = Path(__file__).resolve().parent.parent.parent


def _dask(d: Path, sf: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    common = dict(env=env, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sched = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                              "--scheduler-file", sf, "--no-dashboard"], **common)  # fmt: skip
    wait_until(sf.exists, "the scheduler file", sched)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", sf, "--nworkers",
                               "2", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"], **common)  # fmt: skip
    from distributed import Client

    with Client(scheduler_file=str(sf)) as c:
        c.wait_for_workers(2, timeout=HANG_GUARD)
    return sched, worker


@pytest.mark.cluster
def test_the_scheduler_dying_mid_run_is_one_line_and_the_run_resumes_whole(tmp_path):
    gate = Gate(tmp_path / "gate").create(allow=8)
    spec = tmp_path / "spec.toml"
    spec.write_text(GATED_SPEC.format(seed=3, n=12, gate=gate.path))
    out = tmp_path / "run"
    sf = tmp_path / "scheduler.json"
    sched, worker = _dask(tmp_path, sf)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "ensemble", "run", str(spec), "--out", str(out), "--scheduler",
                                 str(sf), "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)  # fmt: skip
        wait_until(lambda: len(partials(out)) == 8, "8 tasks done", proc)
        sched.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=HANG_GUARD)
    finally:
        for p in (worker, sched):
            p.kill()
            p.wait(timeout=HANG_GUARD)
    line = one_line_error(subprocess.CompletedProcess([], proc.returncode, "", err), "run stopped", "lost", "--resume",
                          code=1)  # fmt: skip
    assert "scheduler" in line.lower()
    gate.release()
    sf.unlink()
    sched, worker = _dask(tmp_path, sf)
    try:
        res = run_cli("run", spec, "--out", out, "--scheduler", sf, "--resume", "--no-progress", cwd=ROOT)
    finally:
        for p in (worker, sched):
            p.terminate()
            p.wait(timeout=HANG_GUARD)
    assert res.returncode == 0, res.stderr
    assert_tables_identical(read_tables(out), execute(parse_spec(spec.read_text()), MemoryStore()).tables)


@pytest.mark.slow  # CI time (< 30 min): siblings cover the path in CI; -m slow runs it
def test_an_unreachable_scheduler_is_one_line_with_the_documented_wait(tmp_path):
    from cluster.scheduler import CONNECT_TIMEOUT

    res = run_cli("run", spec_file(tmp_path, small_spec()), "--out", tmp_path / "r", "--scheduler", "tcp://127.0.0.1:9")
    one_line_error(res, "cannot reach a Dask scheduler", "127.0.0.1:9", "within 10 s")
    assert CONNECT_TIMEOUT == 10.0  # what the docs (guide/running.md) promise
    assert not (tmp_path / "r").exists()


@pytest.mark.cluster
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_the_local_cluster_starts_is_one_line(tmp_path, sig):
    """The signal comes once the run directory exists (the cluster starts right after): it is held back until
    the cluster is up, which is then closed, and the command ends with its one line and its exit code."""
    gate = Gate(tmp_path / "gate").create(allow=0)
    spec = tmp_path / "spec.toml"
    spec.write_text(GATED_SPEC.format(seed=3, n=4, gate=gate.path))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "ensemble", "run", str(spec), "--out", str(out), "--workers", "2",
                             "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    try:
        wait_until(lambda: (out / "run.json").exists(), "the run directory", proc)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=HANG_GUARD)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    res = subprocess.CompletedProcess([], proc.returncode, "", err)
    one_line_error(res, "interrupted" if sig == signal.SIGINT else "terminated (SIGTERM)", code=128 + sig.value)
    assert "Exception ignored" not in err
    assert not out.exists()  # no block had finished


@pytest.mark.parametrize("where", ["store", "manifest"])
def test_a_signal_as_the_run_directory_is_made_leaves_no_directory(tmp_path, monkeypatch, where):
    """A signal at any step of making the run directory, up to the store being handed over (where CI once saw a
    SIGTERM leave an empty directory behind): the directory this call made goes again."""
    import ensemble.store.lifecycle as lifecycle
    from ensemble.api import run_into
    from ensemble.running.executors import ExecutorRequest

    def interrupt():
        signal.raise_signal(signal.SIGINT)  # to this thread (os.kill may reach another thread, later): at once unless held back

    if where == "store":
        class Store(lifecycle.DirectoryStore):
            def __init__(self, *a, **k):
                super().__init__(*a, **k)
                interrupt()

        monkeypatch.setattr(lifecycle, "DirectoryStore", Store)
    else:
        write = lifecycle.write_manifest
        monkeypatch.setattr(lifecycle, "write_manifest", lambda *a, **k: (write(*a, **k), interrupt()))
    out = tmp_path / "run"
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # (importing ensemble._entry holds it)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_into(parse_spec(small_spec()), out, request=ExecutorRequest(kind="serial"), note=lambda s: None)
    finally:
        signal.signal(signal.SIGINT, before)
    assert not out.exists(), list(out.iterdir())


@pytest.mark.parametrize("content", ["[]", "[1, 2]", '"text"', "{", '{"rate": "fast", "work_rate": -1, "precision": []}',
                                     "null", '{"precision": {"points": {"x": 3}}}'])  # fmt: skip
def test_status_reads_a_damaged_progress_record_as_none(tmp_path, content):
    out = tmp_path / "run"
    assert serial_run(spec_file(tmp_path, small_spec()), out).returncode == 0
    (out / "progress.json").write_text(content)
    res = run_cli("status", out)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "finished, 48/48 realizations" in res.stdout


@pytest.mark.parametrize("content, word", [(b"\x89PNG\r\n\x1a\n\x00\x00binary", "not readable text"),
                                           (b"this is not a style\n", "matplotlib"),
                                           (b"figure.dpi: lots\n", "matplotlib"),
                                           (b"no.such.key: 3\n", "matplotlib"),
                                           (b"# only a comment\n", "at least one setting")])  # fmt: skip
def test_a_style_that_cannot_be_used_is_refused_before_drawing(small_run, tmp_path, content, word):
    style = tmp_path / "x.mplstyle"
    style.write_bytes(content)
    before = sorted(p.name for p in (small_run / "plots").iterdir()) if (small_run / "plots").exists() else []
    one_line_error(run_cli("plot", small_run, "--style", style), "style", word)
    after = sorted(p.name for p in (small_run / "plots").iterdir()) if (small_run / "plots").exists() else []
    assert after == before


@pytest.mark.parametrize("fmt", ["", ",", " ", "jpg", "png,gif"])
def test_a_format_that_cannot_be_drawn_is_refused(small_run, fmt):
    one_line_error(run_cli("plot", small_run, "--format", fmt), "format", "png, pdf, svg")


def test_a_good_style_file_draws(small_run, tmp_path):
    style = tmp_path / "ok.mplstyle"
    style.write_text("lines.linewidth: 2\n")
    res = run_cli("plot", small_run, "--style", style, "--format", "png,pdf")
    assert res.returncode == 0 and res.stdout.count(".pdf") >= 1, res.stderr


def test_import_and_help_load_no_heavy_library():
    code = ("import sys, ensemble, ensemble.cli; heavy = [m for m in ('numpy', 'pandas', 'numba', 'duckdb', 'dask', "
            "'matplotlib', 'distributed') if m in sys.modules]; print(heavy)")  # fmt: skip
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=HANG_GUARD)
    assert res.returncode == 0 and res.stdout.strip() == "[]", res.stdout + res.stderr
    listed = json.dumps(sorted(__import__("ensemble").__all__))
    assert "run" in listed and "query" in listed


def test_the_watchdog_says_once_that_nothing_finishes():
    from ensemble.running.runner import Watchdog

    class Quick(Watchdog):
        FACTOR, FLOOR = 1.0, 0.05

    lines: list[str] = []
    with Quick(0.01, parse_spec(small_spec()), note=lines.append) as dog:
        wait_until(lambda: lines, "the watchdog's warning")
        seen = dog.checks
        wait_until(lambda: dog.checks >= seen + 5, "five more looks")
        assert len(lines) == 1 and "may be stuck" in lines[0] and "ensemble replay" in lines[0]
        dog.fed()  # a task finished: the next stall is said again
        wait_until(lambda: len(lines) == 2, "a second warning after a new stall")
