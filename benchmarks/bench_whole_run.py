"""Whole runs, start to finish: ``ensemble run`` against a ``multiprocessing.Pool`` script and a plain Dask
``client.map`` script doing the same realizations (issue 36).

Each contender is a separate command, started fresh every time, as a physicist runs it:

* engine: ``python -m ensemble run SPEC --out DIR --workers 2 --no-progress`` (validation, the default
  executor on Linux: workers forked from the driver once the kernel is loaded; streaming reduction into block
  moments, Parquet tables with errors, fits); engine-dask: the same with ``--executor local`` (a local Dask
  cluster);
* Pool: a script that imports the kernel, maps batches of realization indices over ``multiprocessing.Pool(2)``
  (Linux's default start, fork) and sums every observable (no blocks, no errors, no files);
* client.map: the same batches through a ``LocalCluster(n_workers=2, threads_per_worker=1)`` and
  ``client.map``/``gather``, summed the same way.

All three draw every realization from the engine's own generator (``realization_rng(seed, key, r)``), so the
means agree (checked: the engine's mean of one observable against both scripts' sums, to 1e-9 relative).

**CPU is that of every process the command started**, measured by the kernel: each command runs in its own
cgroup (v1 ``cpuacct``, when this process may create one, as root on the CI machine) whose usage counts
every descendant, orphans too; otherwise from ``wait4`` of the command (descendants that were waited for; a
process left running is missed, and the output says which method was used). Contenders are interleaved
(engine, Pool, client.map, engine, ...) so that a change in load hits all of them; medians are printed with
the range. The fixed cost is the intercept of CPU against realizations (a least-squares line through the
medians), the marginal cost its slope.

Usage: python benchmarks/bench_whole_run.py [--sizes 1000 10000 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

SPEC = """
name = "whole_run"
kernel = "anderson_trajectory"
seed = 11
realizations = {n}
[params]
L = 20
W = 3.0
tau = 0.05
[times]
values = [10.0]
"""

#: The plain scripts: the engine's generator and kernel, no engine. {contender} is "pool" or "dask".
SCRIPT = textwrap.dedent('''
    import sys
    import numpy as np

    from ensemble.spec.experiment import parse_spec
    from ensemble.spec.seeding import realization_rng
    from kernels.front import anderson_trajectory as k

    N, BATCH = int(sys.argv[2]), 500

    def batch(args):
        params, seed, key, lo, hi = args
        sums = {{}}
        for r in range(lo, hi):
            obs = k.realize(params, k.sample(params, realization_rng(seed, key, r)))
            for name, v in obs.items():
                if name in sums:
                    sums[name] += v
                else:
                    sums[name] = np.array(v, dtype=float)
        return sums

    def add(results):
        total = {{}}
        for sums in results:
            for name, v in sums.items():
                total[name] = total[name] + v if name in total else v
        return total

    if __name__ == "__main__":
        exp = parse_spec(open(sys.argv[1]).read())
        pt = exp.points[0]
        args = [(pt.params, exp.seed, pt.key, lo, min(N, lo + BATCH)) for lo in range(0, N, BATCH)]
        if "{contender}" == "pool":
            import multiprocessing
            with multiprocessing.Pool(2) as pool:
                total = add(pool.imap_unordered(batch, args))
        else:
            from distributed import Client, LocalCluster
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, \\
                    Client(c) as client:
                total = add(client.gather(client.map(batch, args)))
        print(repr(float(np.ravel(total["{observable}"])[-1] / N)))
''')

#: ``ensemble run --executor ...`` under these names (engine: the default on Linux, workers forked from the
#: driver; engine-dask: the local Dask cluster).
ENGINES = {"engine": "processes", "engine-dask": "local"}
CONTENDERS = (*ENGINES, "pool", "dask")
OBSERVABLE = "Ig"  # the noisy trajectory's imbalance, one value per sample time


class CPU:
    """CPU seconds of a command and everything it started: a cgroup's usage where one can be made, else wait4."""

    def __init__(self):
        self.group = None
        base = Path("/sys/fs/cgroup/cpuacct")
        if (base / "cpuacct.usage").exists() and os.access(base, os.W_OK):
            group = base / f"bench-whole-run-{uuid.uuid4().hex[:8]}"
            try:
                group.mkdir()
                self.group = group
            except OSError:
                pass
        self.method = "cgroup cpuacct (every process the command started)" if self.group else \
            "wait4 of the command (descendants it waited for)"  # fmt: skip

    def run(self, cmd: list[str], cwd: Path) -> tuple[float, float, str]:
        """(CPU s, wall s, stdout) of ``cmd``; raises on a non-zero exit."""
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        t0 = time.perf_counter()
        if self.group is not None:
            before = int((self.group / "cpuacct.usage").read_text())
            wrapped = ["sh", "-c", f'echo $$ > {self.group}/cgroup.procs && exec "$@"', "sh", *cmd]
            p = subprocess.run(wrapped, cwd=cwd, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            deadline = time.time() + 30  # what the command left running is still counted, until it ends
            while (self.group / "cgroup.procs").read_text().split() and time.time() < deadline:
                time.sleep(0.1)
            cpu = (int((self.group / "cpuacct.usage").read_text()) - before) / 1e9
        else:
            r0 = os.times()
            p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            r1 = os.times()
            cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
        if p.returncode:
            raise SystemExit(f"{' '.join(map(str, cmd))} exited {p.returncode}: {p.stderr.strip()[-500:]}")
        return cpu, wall, p.stdout

    def close(self):
        if self.group is not None:
            try:
                self.group.rmdir()
            except OSError:
                pass


def engine_mean(out: Path) -> float:
    import pandas as pd

    df = pd.read_parquet(out / "tables" / "summary.parquet")
    rows = df[df["observable"] == OBSERVABLE]
    return float(rows.sort_values("t")["mean"].iloc[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 20000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS),
                    help="which to run (engine always runs: the ratios are against it)")
    args = ap.parse_args()
    chosen = ["engine", *(c for c in args.contenders if c != "engine")]
    work = Path(tempfile.mkdtemp(prefix="bench-whole-run-"))
    cpu = CPU()
    py = sys.executable
    for name in ("pool", "dask"):
        (work / f"contender_{name}.py").write_text(SCRIPT.format(contender=name, observable=OBSERVABLE))
    print(f"# {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, load average "
          f"{os.getloadavg()[0]:.2f}; anderson_trajectory L = 20 to t = 10 (200 steps); CPU: {cpu.method}")  # fmt: skip
    table: dict[tuple[str, int], list[tuple[float, float]]] = {}
    try:
        for n in args.sizes:
            spec = work / f"spec{n}.toml"
            spec.write_text(SPEC.format(n=n))
            for _ in range(args.repeats):
                out = work / "run"
                shutil.rmtree(out, ignore_errors=True)
                means = {}
                for name, executor in ENGINES.items():
                    if name not in chosen:
                        continue
                    shutil.rmtree(out, ignore_errors=True)
                    c, w, _ = cpu.run([py, "-m", "ensemble", "run", str(spec), "--out", str(out), "--workers", "2",
                                       "--executor", executor, "--no-progress"], work)  # fmt: skip
                    table.setdefault((name, n), []).append((c, w))
                    means[name] = engine_mean(out)
                for name in ("pool", "dask"):
                    if name not in chosen:
                        continue
                    c, w, stdout = cpu.run([py, str(work / f"contender_{name}.py"), str(spec), str(n)], work)
                    table.setdefault((name, n), []).append((c, w))
                    means[name] = float(stdout.strip().splitlines()[-1])
                ref = means["engine"]
                for name in chosen:
                    if abs(means[name] - ref) > 1e-9 * max(1.0, abs(ref)):
                        raise SystemExit(f"{name}'s mean {means[name]!r} differs from the engine's {ref!r}")
    finally:
        cpu.close()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'realizations':>12} {'contender':>16} {'CPU s (median, range)':>26} {'wall s':>8} "
          f"{'CPU ms/real':>12} {'engine/this':>12}")  # fmt: skip
    med = {key: float(np.median([c for c, _ in v])) for key, v in table.items()}
    for n in args.sizes:
        for name in chosen:
            cs = [c for c, _ in table[(name, n)]]
            ws = [w for _, w in table[(name, n)]]
            ratio = med[("engine", n)] / med[(name, n)]
            print(f"{n:>12} {name:>16} {f'{med[(name, n)]:.2f} ({min(cs):.2f}-{max(cs):.2f})':>26} "
                  f"{np.median(ws):>8.2f} {med[(name, n)] / n * 1e3:>12.3f} {ratio:>11.2f}x")  # fmt: skip
    if len(args.sizes) >= 2:
        x = np.array(args.sizes, dtype=float)
        for name in chosen:
            slope, icpt = np.polyfit(x, [med[(name, n)] for n in args.sizes], 1)
            print(f"# {name}: fixed cost {icpt:.2f} CPU s, marginal {slope * 1e3:.3f} CPU ms per realization "
                  "(least squares through the medians)")


if __name__ == "__main__":
    main()
