"""HPC jobs through dask-jobqueue: configuration, job scripts as text, and a real single-node SLURM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cluster import job_script, load_job_config
from cluster.errors import ClusterConfigError
from cluster.jobs import parse_walltime
from ensemble import MemoryStore, execute, parse_spec
from tests.helpers import HANG_GUARD, assert_tables_identical, read_tables, run_cli, small_spec

ROOT = Path(__file__).resolve().parent.parent.parent


def test_defaults_are_the_documented_file():
    cfg = load_job_config("slurm")
    doc = yaml.safe_load((ROOT / "cluster" / "jobqueue.yaml").read_text())["slurm"]
    assert (cfg.cores, cfg.memory, cfg.walltime, cfg.max_jobs) == (doc["cores"], doc["memory"], doc["walltime"], doc["max_jobs"])
    assert cfg.lifetime == "110m"  # walltime 2 h minus 10 minutes


def test_user_file_then_command_line_override(tmp_path):
    f = tmp_path / "jobs.yaml"
    f.write_text("slurm:\n  cores: 16\n  queue: long\n  job_prologue: ['module load python/3.11']\n")
    cfg = load_job_config("slurm", f, {"cores": 8, "account": "phys123", "memory": None})
    assert (cfg.cores, cfg.queue, cfg.account, cfg.memory) == (8, "long", "phys123", "8GiB")
    assert cfg.job_prologue == ("module load python/3.11",)


@pytest.mark.parametrize(
    "overrides, field",
    [({"cores": 0}, "slurm.cores"), ({"min_jobs": 5, "max_jobs": 2}, "slurm.max_jobs"), ({"walltime": "2 hours"}, "walltime")],
)
def test_bad_job_settings_are_refused(overrides, field):
    with pytest.raises(ClusterConfigError) as e:
        load_job_config("slurm", None, overrides)
    assert e.value.field == field


def test_misspelled_key_in_the_file(tmp_path):
    f = tmp_path / "jobs.yaml"
    f.write_text("slurm:\n  waltime: '01:00:00'\n")
    with pytest.raises(ClusterConfigError, match="did you mean 'walltime'"):
        load_job_config("slurm", f)


def test_walltime_parsing_and_short_lifetimes():
    assert parse_walltime("1-02:00:00") == 26 * 3600 and parse_walltime("30:00") == 1800
    assert load_job_config("slurm", None, {"walltime": "00:20:00"}).lifetime == "16m"


def test_slurm_job_script_as_text():
    cfg = load_job_config(
        "slurm", None, {"cores": 6, "memory": "12GiB", "walltime": "03:00:00", "queue": "short", "account": "mbl",
                        "job_prologue": ["module load python/3.11"]},
    )  # fmt: skip
    script = job_script(cfg)
    for line in ("#SBATCH -p short", "#SBATCH -A mbl", "#SBATCH --cpus-per-task=6", "#SBATCH -t 03:00:00",
                 "export NUMBA_NUM_THREADS=1", "export OPENBLAS_NUM_THREADS=1", "module load python/3.11",
                 'export NUMBA_CACHE_DIR="${TMPDIR:-/tmp}/ensemble-numba-$USER"'):  # fmt: skip
        assert line in script, line
    worker = script.strip().splitlines()[-1]
    assert "--nworkers 6" in worker and "--nthreads 1" in worker and "--lifetime 170m" in worker
    assert script.index("NUMBA_NUM_THREADS") < script.index("distributed.cli.dask_worker")


def test_pbs_job_script_as_text():
    cfg = load_job_config("pbs", None, {"cores": 4, "queue": "workq", "account": "proj", "walltime": "01:00:00"})
    script = job_script(cfg)
    assert "#PBS -q workq" in script and "#PBS -A proj" in script and "#PBS -l walltime=01:00:00" in script
    worker = script.strip().splitlines()[-1]
    assert "ncpus=4" in script and all(a in worker for a in ("--nworkers 4", "--nthreads 1", "--lifetime 50m"))


def test_cli_job_script():
    res = run_cli("job-script", "--cluster", "slurm", "--cores", "2", "--queue", "debug", cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "#SBATCH -p debug" in res.stdout and "# adaptive: 0..10 jobs" in res.stdout


# -- a real SLURM --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slurm():
    """slurmctld + slurmd on this machine, started by the project's own script."""
    if os.geteuid() != 0:
        pytest.skip("cluster/slurm_local.sh needs root to install and start SLURM")
    res = subprocess.run([str(ROOT / "cluster" / "slurm_local.sh"), "start"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr + res.stdout
    yield
    subprocess.run(["scancel", "--user", "root"], capture_output=True)
    subprocess.run([str(ROOT / "cluster" / "slurm_local.sh"), "stop"], capture_output=True, timeout=HANG_GUARD)


@pytest.mark.slurm
@pytest.mark.cluster
def test_run_through_slurm_jobs_equals_local_run(slurm, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(small_spec(batch_size=4))
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(f"slurm:\n  cores: 1\n  memory: 2GiB\n  walltime: '00:20:00'\n  log_directory: {tmp_path / 'logs'}\n")
    res = run_cli(
        "run", spec, "--out", tmp_path / "run", "--cluster", "slurm", "--cluster-config", jobs, "--max-jobs", "2",
        "--no-progress", cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "SLURM jobs (0-2 x 1 cores)" in res.stderr and "dashboard: http" in res.stderr
    logs = list((tmp_path / "logs").glob("*.err")) + list((tmp_path / "logs").glob("*.out"))
    assert logs and any("Start worker" in p.read_text() for p in logs), "workers ran inside SLURM jobs"
    assert_tables_identical(read_tables(tmp_path / "run"), execute(parse_spec(small_spec()), MemoryStore()).tables)


@pytest.mark.parametrize("kind, booked", [("slurm", "#SBATCH --cpus-per-task=8"), ("pbs", "ncpus=8")])
def test_threads_per_worker_in_job_scripts(kind, booked):
    """threads = 2 on 8-core jobs: 4 one-task workers with 2 BLAS threads each, all 8 cores booked."""
    cfg = load_job_config(kind, None, {"cores": 8, "threads": 2, "memory": "16GiB"})
    assert cfg.processes == 4
    script = job_script(cfg)
    assert booked in script and "export OPENBLAS_NUM_THREADS=2" in script and "export OMP_NUM_THREADS=2" in script
    worker = script.strip().splitlines()[-1]
    assert "--nworkers 4" in worker and "--nthreads 1" in worker
    assert "--memory-limit 4.00GiB" in worker  # the job's memory shared by 4 workers, not 8


@pytest.mark.parametrize("threads", [3, 0, True, "2"])
def test_threads_must_divide_the_cores(threads):
    with pytest.raises(ClusterConfigError) as e:
        load_job_config("slurm", None, {"cores": 8, "threads": threads})
    assert e.value.field == "slurm.threads"


@pytest.mark.parametrize("kind", ["slurm", "pbs"])
def test_job_cluster_scheduler_runs_without_work_stealing(kind):
    """The jobs' scheduler (in the driver) gets the local cluster's quiet setting; the default keeps stealing."""
    import dask
    from distributed import Scheduler

    from cluster.jobs import _new_cluster

    cluster = _new_cluster(load_job_config(kind))
    try:
        assert isinstance(cluster.scheduler, Scheduler) and "stealing" not in cluster.scheduler.extensions
    finally:
        cluster.close()
    assert dask.config.get("distributed.scheduler.work-stealing")  # the setting did not leak into the process
    from cluster.jobs import BATCH_SYSTEMS, _job_kwargs

    plain = BATCH_SYSTEMS[kind].cluster_type()(**_job_kwargs(load_job_config(kind)))  # control: Dask's default
    try:
        assert "stealing" in plain.scheduler.extensions
    finally:
        plain.close()


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
@pytest.mark.slurm
@pytest.mark.cluster
def test_driver_terminated_on_slurm_jobs_resumes_to_the_same_bytes(slurm, tmp_path):
    """SIGTERM of the driver while SLURM jobs run its tasks (6 done, the rest waiting at a gate): one clear line,
    the jobs cancelled, the finished blocks kept; the resume's tables equal an uninterrupted run's, byte for byte."""
    from tests.ensemble.gated_kernel import SPEC as GATED, Gate
    from tests.helpers import partials, wait_until

    gate = Gate(tmp_path / "gate").create(allow=6)
    spec = tmp_path / "s.toml"
    spec.write_text(GATED.format(seed=4, n=6, gate=gate.path))
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(f"slurm:\n  cores: 1\n  memory: 2GiB\n  walltime: '00:20:00'\n  log_directory: {tmp_path / 'logs'}\n"
                    f"  job_prologue: ['export PYTHONPATH={ROOT}']\n")  # the workers import the test's kernel
    args = ["--cluster", "slurm", "--cluster-config", jobs, "--max-jobs", "2", "--no-progress"]
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "ensemble", "run", str(spec), "--out", str(out), *map(str, args)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_until(lambda: len(partials(out)) == 6 and gate.taken() > 6, "6 tasks done and one waiting in a job", proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == 143 and "terminated (SIGTERM)" in err and "6 finished task(s) are kept" in err, err
    assert "Traceback" not in err
    wait_until(lambda: not subprocess.run(["squeue", "-h"], capture_output=True, text=True).stdout.strip(),
               "the jobs to end")  # fmt: skip
    gate.release()
    res = run_cli("run", spec, "--out", out, "--resume", *args, cwd=ROOT)
    assert res.returncode == 0 and "resumed: 6 realizations" in res.stdout, res.stderr
    clean = tmp_path / "clean"
    assert run_cli("run", spec, "--out", clean, "--executor", "serial", "--no-progress", cwd=ROOT).returncode == 0
    for name in ("summary.parquet", "fits.parquet"):
        if (clean / "tables" / name).exists():
            assert (out / "tables" / name).read_bytes() == (clean / "tables" / name).read_bytes()


GOAL_ON_JOBS = """
kernel = "module:tests.ensemble.gated_kernel"
seed = 5
realizations = 4
block_size = 1
batch_size = 1
[params]
gate = "{gate}"
[sweep]
a = [0.0, 1.0]
[times]
values = [1.0, 2.0]
[precision]
observable = "x"
where = {{ t = 2.0 }}
sem = 0.01
max_realizations = 5
"""


def _running_jobs() -> int:
    out = subprocess.run(["squeue", "-h", "-t", "R"], capture_output=True, text=True).stdout
    return len(out.strip().splitlines())


def _jobs() -> int:
    return len(subprocess.run(["squeue", "-h"], capture_output=True, text=True).stdout.strip().splitlines())


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
@pytest.mark.slurm
@pytest.mark.cluster
def test_the_job_cluster_shrinks_as_points_reach_their_goal(slurm, tmp_path):
    """Precision goals on SLURM jobs (--max-jobs 2): 2 points' first checks (8 tasks) run on 2 jobs; one point
    reaches the goal there (a = 0: no spread), the other needs one block more (its cap), held at the gate: the
    cluster shrinks to 1 job while only that block can run, and to none when the run is done; the tables equal
    a serial run's."""
    from tests.ensemble.gated_kernel import Gate
    from tests.helpers import wait_until

    gate = Gate(tmp_path / "gate").create(allow=0)
    spec = tmp_path / "goal.toml"
    spec.write_text(GOAL_ON_JOBS.format(gate=gate.path))
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(f"slurm:\n  cores: 1\n  memory: 2GiB\n  walltime: '00:20:00'\n  log_directory: {tmp_path / 'logs'}\n"
                    f"  job_prologue: ['export PYTHONPATH={ROOT}']\n")  # fmt: skip
    out = tmp_path / "run"
    env = {**os.environ, "DASK_DISTRIBUTED__ADAPTIVE__TARGET_DURATION": "0.1s"}  # scale up to the bound at once
    args = ["--cluster", "slurm", "--cluster-config", str(jobs), "--max-jobs", "2", "--no-progress"]
    proc = subprocess.Popen([sys.executable, "-m", "ensemble", "run", str(spec), "--out", str(out), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        wait_until(lambda: _running_jobs() == 2, "two jobs running the first checks", proc)
        gate.set(8)  # every first check; the second point's fifth block waits at the gate
        wait_until(lambda: gate.taken() >= 9, "the one block left to be started", proc)
        wait_until(lambda: _jobs() == 1, "the cluster to shrink to one job", proc)
        gate.release()
        stdout, err = proc.communicate(timeout=HANG_GUARD)
    finally:
        gate.release()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    wait_until(lambda: _jobs() == 0, "no job left once the run is done")
    status = run_cli("status", out, "--no-tables")
    assert status.stdout.count("goal 0.01: reached") == 1 and "stopped at the cap" in status.stdout, status.stdout
    clean = tmp_path / "clean"
    assert run_cli("run", spec, "--out", clean, "--executor", "serial", "--no-progress", cwd=ROOT).returncode == 0
    for name in ("summary.parquet", "fits.parquet"):
        if (clean / "tables" / name).exists():
            assert (out / "tables" / name).read_bytes() == (clean / "tables" / name).read_bytes()
