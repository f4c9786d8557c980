"""The engine's invariances: executor, batch size, interruption and resume never change a bit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ensemble import MemoryStore, RealizationError, open_run_dir, parse_spec, execute
from ensemble.spec.seeding import realization_rng
from ensemble.running.tasks import plan, run_task
from kernels.front import anderson_trajectory as k
from tests.ensemble.faulty_kernel import SPEC as FAULTY_SPEC
from tests.helpers import assert_tables_identical, read_tables, small_spec


@pytest.fixture(scope="module")
def reference_tables():
    """Serial, in-memory, batch 8 / block 4: the reference every other way must reproduce."""
    return execute(parse_spec(small_spec()), MemoryStore()).tables


def test_tables_have_the_documented_shape(reference_tables):
    s = reference_tables["summary"]
    assert list(s.columns) == ["L", "W", "gamma", "tau", "J", "unraveling", "observable", "t", "site", "n", "mean", "sem", "estimator"]
    assert set(s.observable) == {"Sz0", "Szg", "I0", "Ig", "Ir", "dS", "h"}
    assert (s.n == 24).all()
    assert s[s.observable == "I0"].site.isna().all() and s[s.observable == "Sz0"].site.notna().all()
    assert len(s[(s.observable == "Szg") & (s.W == 2.0)]) == 12 * 10
    fits = reference_tables["fits"]
    assert list(fits.fit) == ["front", "threshold_time"] * 2 + ["threshold_scaling", "avalanche_crossing"]
    fits = fits[fits.fit == "front"]
    assert list(fits.W) == [2.0, 6.0] and {"A", "A_err", "invA", "invA_err", "t_start", "t_stop", "chi2_dof"} <= set(fits.columns)


def test_summary_means_equal_a_direct_loop_over_realizations(reference_tables):
    exp = parse_spec(small_spec())
    pt = exp.points[1]
    samples = np.array([k.realize(pt.params, k.sample(pt.params, realization_rng(exp.seed, pt.key, r)))["Szg"] for r in range(24)])
    s = reference_tables["summary"]
    rows = s[(s.observable == "Szg") & (s.W == 6.0)].sort_values(["t", "site"])
    np.testing.assert_allclose(rows["mean"], samples.mean(axis=0).ravel(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(rows["sem"], samples.std(axis=0, ddof=1).ravel() / np.sqrt(24), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("batch_size", [4, 12, 24, 5])
def test_batch_size_does_not_change_a_bit(reference_tables, batch_size):
    exp = parse_spec(small_spec(batch_size=batch_size))
    result = execute(exp, MemoryStore())
    assert result.tasks_run == 2 * -(-6 // exp.blocks_per_task(exp.points[0]))
    assert_tables_identical(result.tables, reference_tables)


@pytest.mark.cluster
def test_two_dask_workers_equal_serial_bit_for_bit(reference_tables, local_executor, tmp_path):
    exp = parse_spec(small_spec(batch_size=4))
    result = execute(exp, open_run_dir(tmp_path / "run", exp, resume=False), local_executor)
    assert result.tasks_run == 12 and local_executor.workers == 2
    assert_tables_identical(result.tables, reference_tables)
    assert_tables_identical(read_tables(tmp_path / "run"), reference_tables)


@pytest.mark.cluster
def test_dask_workers_run_single_threaded_numba(local_executor):
    env = local_executor.client.run(lambda: {k: os.environ.get(k) for k in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    assert len(env) == 2
    assert all(v == {"NUMBA_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"} for v in env.values())

    def numba_threads():
        import numba

        return numba.config.NUMBA_NUM_THREADS

    assert set(local_executor.client.run(numba_threads).values()) == {1}


def test_plan_skips_done_blocks_and_splits_runs():
    exp = parse_spec(small_spec(batch_size=8, block_size=4))  # 6 blocks per point, 2 per task
    key0, key1 = exp.points[0].key, exp.points[1].key
    tasks = list(plan(exp, {key0: {0, 1, 3}, key1: set(range(6))}))
    assert [(t.first_block, t.stop_block) for t in tasks] == [(2, 3), (4, 6)]
    assert all(t.key == key0 for t in tasks)


def test_realization_seed_depends_only_on_seed_point_and_index():
    exp = parse_spec(small_spec())
    t1 = next(plan(exp))
    exp2 = parse_spec(small_spec(batch_size=24, block_size=6))
    t2 = next(plan(exp2))
    a = run_task(t1).mean["I0"][0]  # block 0 = realizations 0..3 in both
    rng_draws = [k.sample(t1.params, realization_rng(99, t1.key, r)).h for r in range(4)]
    assert t1.key == t2.key
    assert np.array_equal(rng_draws[0], k.sample(t2.params, realization_rng(99, t2.key, 0)).h)
    direct = np.mean([k.realize(t1.params, k.sample(t1.params, realization_rng(99, t1.key, r)))["I0"] for r in range(4)], axis=0)
    np.testing.assert_allclose(a, direct, rtol=0, atol=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 99, 2**32 - 1, 2**32, 2**63 - 1, 2**64, 2**100 + 3])
def test_compiled_seeding_gives_numpys_seedsequence_stream(seed):
    """realization_rng hashes the SeedSequence compiled; its streams must be NumPy's own, word for word."""
    from ensemble.spec.seeding import _words, realization_seed

    rng = np.random.default_rng(seed % 1000)
    keys = [0, 1, 2**31, 2**32, 2**64 - 1, *map(int, rng.integers(0, 2**63, 20))]
    for key in keys:
        for r in (0, 1, 2**32 - 1, 2**32, int(rng.integers(0, 2**40))):
            want = np.random.default_rng(realization_seed(seed, key, r))
            got = realization_rng(seed, key, r)
            assert got.bit_generator.state["state"] == want.bit_generator.state["state"], (seed, key, r)
            assert np.array_equal(got.random(4), want.random(4))
    with pytest.raises(ValueError, match="non-negative"):
        _words(-1)


def test_a_changed_numpy_seedsequence_falls_back_to_numpy(monkeypatch):
    """The compiled hash is checked against NumPy on first use; a mismatch means NumPy's path (negative control)."""
    from ensemble.spec import seeding

    monkeypatch.setattr(seeding, "_FAST_SEEDING", None)
    real = seeding._pcg64_seed
    monkeypatch.setattr(seeding, "_pcg64_seed", lambda e: real(e) ^ np.uint64(1))
    a = seeding.realization_rng(5, 6, 7)
    assert seeding._FAST_SEEDING is False
    assert np.array_equal(a.random(3), np.random.default_rng(seeding.realization_seed(5, 6, 7)).random(3))


# -- interruption, resume, corruption ---------------------------------------------------------


def _partials(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "partials").glob("*/*.npz"))


def test_killed_run_resumes_to_identical_tables(tmp_path):
    """SIGKILL after exactly 6 of 60 tasks (the rest wait at a gate): the resume runs the other 54 and equals a
    clean run bit for bit."""
    from tests.ensemble.gated_kernel import SPEC as GATED, Gate
    from tests.helpers import wait_until

    gate = Gate(tmp_path / "gate").create(allow=6)
    spec = tmp_path / "spec.toml"
    spec.write_text(GATED.format(seed=5, n=30, gate=gate.path))
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "ensemble", "run", spec, "--out", out, "--executor", "serial", "--no-progress"]
    proc = subprocess.Popen(list(map(str, cmd)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: len(_partials(out)) == 6 and gate.taken() == 7, "6 finished tasks and the 7th waiting", proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL and len(_partials(out)) == 6
    assert not (out / "tables").exists()

    gate.release()
    res = subprocess.run(list(map(str, cmd)) + ["--resume"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "ran 54 realizations" in res.stdout
    assert "resumed: 6 realizations were already done" in res.stdout
    assert len(_partials(out)) == 60

    exp = parse_spec(spec.read_text(), name="spec")
    assert_tables_identical(read_tables(out), execute(exp, MemoryStore()).tables)


def test_corrupt_partial_is_set_aside_and_recomputed(tmp_path):
    exp = parse_spec(small_spec())
    out = tmp_path / "run"
    clean = execute(exp, open_run_dir(out, exp, resume=False)).tables
    victim = _partials(out)[3]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # truncated, as by a crash or a full disk
    other = _partials(out)[5]
    raw = bytearray(other.read_bytes())
    raw[-200] ^= 0xFF  # one flipped byte
    other.write_bytes(bytes(raw))

    store = open_run_dir(out, exp, resume=True)
    result = execute(exp, store)
    assert sorted(p.name for p, _ in store.set_aside) == sorted([victim.name, other.name])
    assert result.tasks_run == 2
    assert_tables_identical(result.tables, clean)


def test_existing_run_needs_resume_and_the_same_spec(tmp_path):
    from ensemble import RunDirectoryError

    exp = parse_spec(small_spec())
    out = tmp_path / "run"
    execute(exp, open_run_dir(out, exp, resume=False))
    with pytest.raises(RunDirectoryError, match="--resume"):
        open_run_dir(out, exp, resume=False)
    with pytest.raises(RunDirectoryError, match="another kernel or seed"):
        open_run_dir(out, parse_spec(small_spec().replace("seed = 99", "seed = 98")), resume=True)
    with pytest.raises(RunDirectoryError, match="other parameters or sample times"):
        open_run_dir(out, parse_spec(small_spec(stop=80.0)), resume=True)
    # batch size is not part of the results: resuming with another one is fine
    store = open_run_dir(out, parse_spec(small_spec(batch_size=12)), resume=True)
    assert execute(parse_spec(small_spec(batch_size=12)), store).tasks_run == 0


# -- failures ------------------------------------------------------------------------------------


@pytest.fixture
def faulty_kernel():
    """The failing test kernel, plugged in by module path as a user kernel would be."""
    return "module:tests.ensemble.faulty_kernel"


FAULTY = FAULTY_SPEC


@pytest.mark.parametrize("extra, what", [("", "raised FloatingPointError"), ("nan = true", "non-finite values in x")])
def test_failing_realization_names_point_index_and_seed(faulty_kernel, extra, what):
    exp = parse_spec(FAULTY.format(extra=extra))
    store = MemoryStore()
    with pytest.raises(RealizationError) as e:
        execute(exp, store)
    msg = str(e.value)
    assert what in msg and "point 0" in msg
    r = int(msg.split("realization ")[1].split(" ")[0])
    key = exp.points[0].key
    assert f"SeedSequence(3, spawn_key=({key}, {r}))" in msg
    # the message is enough to replay that one realization, and it fails again
    assert realization_rng(3, key, r).uniform(size=2)[0] < 0.01
    # batches finished before the failure are kept
    kept = store.done_blocks(exp).get(key, set())
    assert kept and r // exp.points[0].block_size not in kept


def test_kernel_without_analysis_gets_only_means(faulty_kernel):
    exp = parse_spec(FAULTY.format(extra="").replace("threshold = 0.01", "threshold = -1.0"))
    tables = execute(exp, MemoryStore()).tables
    s = tables["summary"]
    assert set(s.observable) == {"x"} and len(tables["fits"]) == 0
    np.testing.assert_allclose(s["mean"], 0.5, atol=4 * s["sem"].max())


# -- memory ------------------------------------------------------------------------------------------


def _peak_bytes(realizations: int, block_size: int | None, tmp_path: Path) -> int:
    import tracemalloc

    text = small_spec(realizations=realizations, batch_size=max(1, realizations // 10), block_size=1, stop=5.0)
    if block_size is None:  # default blocks: ceil(realizations / 100)
        text = text.replace("block_size = 1\n", "")
    exp = parse_spec(text)
    store = open_run_dir(tmp_path / f"run{realizations}-{block_size}", exp, resume=False)
    warm = parse_spec(small_spec(realizations=4, batch_size=4, block_size=2, stop=5.0))
    execute(warm, open_run_dir(tmp_path / f"warm{realizations}", warm, resume=False))  # imports, first Parquet write
    tracemalloc.start()
    try:
        execute(exp, store)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_driver_memory_does_not_grow_with_realizations(tmp_path):
    small = _peak_bytes(500, None, tmp_path)
    large = _peak_bytes(5000, None, tmp_path)
    assert large < 1.3 * small, f"peak {small} -> {large} bytes for 10x the realizations"


def test_cli_report_for_a_kernel_without_fits(faulty_kernel, capsys, tmp_path):
    from ensemble.cli import _report

    exp = parse_spec(FAULTY.format(extra="").replace("threshold = 0.01", "threshold = -1.0"))
    store = open_run_dir(tmp_path / "run", exp, resume=False)
    tables = execute(exp, store).tables
    _report(exp, tables, store)
    out = capsys.readouterr().out
    assert "Front fits" not in out and "observable = 'x'" in out and "summary.parquet" in out


def test_points_with_their_own_realizations_run_and_resume(tmp_path):
    text = small_spec().replace("realizations = 24", 'realizations = { by = "W", values = [16, 8] }')
    exp = parse_spec(text)
    tables = execute(exp, MemoryStore()).tables
    s = tables["summary"]
    assert set(s[s.W == 2.0].n) == {16} and set(s[s.W == 6.0].n) == {8}
    # the W = 2 point is the same experiment as in a run where every point has 16
    other = execute(parse_spec(small_spec(realizations=16)), MemoryStore()).tables["summary"]
    a, b = s[s.W == 2.0].reset_index(drop=True), other[other.W == 2.0].reset_index(drop=True)
    assert np.array_equal(a["mean"].to_numpy(), b["mean"].to_numpy())


@pytest.mark.parametrize("kind", ["serial", "local"])
def test_threads_per_worker_reach_every_realization(kind, tmp_path):
    """--threads T: each realization runs with T BLAS threads (the partials record it); default 1."""
    import json

    from ensemble import open_run
    from ensemble.api import run
    from tests.ensemble.threads_kernel import SPEC

    for threads in (1, 2):
        r = run(SPEC, tmp_path / f"{kind}{threads}", executor=kind, threads=threads, workers=1 if kind == "local" else None)
        assert r.summary["mean"].tolist() == [float(threads)]
        progress = json.loads((tmp_path / f"{kind}{threads}" / "progress.json").read_text())
        assert progress["threads"] == threads
    assert open_run(tmp_path / f"{kind}1").summary["n"].tolist() == [4]
