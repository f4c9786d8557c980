"""A million realizations of a cheap kernel through a 2-worker local cluster.

The kernel is the Anderson trajectory at L = 4 for one step (well under a
millisecond per realization). Realizations are batched 1000 per task, in
jackknife blocks of 200, into a run directory on disk. Each size runs in a
fresh process, which reports its own peak resident memory (the driver's:
the workers are separate processes), the number of Dask tasks and the
throughput.

Usage: python benchmarks/bench_scale.py [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import cpu_with_children

SPEC = """
name = "scale"
kernel = "anderson_trajectory"
seed = 7
realizations = {n}
batch_size = 1000
block_size = 200
[params]
L = 4
W = 3.0
[times]
values = [0.05]
"""


def one(n: int) -> dict:
    """Run n realizations here; report tasks, seconds, throughput and this process's peak RSS."""
    from ensemble import make_executor, open_run_dir, parse_spec, execute

    exp = parse_spec(SPEC.format(n=n))
    with tempfile.TemporaryDirectory() as d, make_executor("local", workers=2) as ex:
        t0, c0 = time.perf_counter(), cpu_with_children()
        result = execute(exp, open_run_dir(Path(d) / "run", exp, resume=False), ex)
        total = time.perf_counter() - t0
        cpu = cpu_with_children() - c0
        assert int(result.tables["summary"]["n"].iloc[0]) == n
    return {
        "realizations": n,
        "tasks": result.tasks_run,
        "seconds": round(result.seconds, 2),
        "with_tables": round(total, 2),
        "per_second": round(n / result.seconds),
        "cpu_us": round(cpu / n * 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    print(f"# {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; 2 local workers; "
          "driver peak RSS per run (fresh process each); CPU: driver and workers, per realization")  # fmt: skip
    print(f"{'realizations':>13} {'tasks':>6} {'run s':>7} {'+tables s':>10} {'real/s':>9} {'CPU us/real':>12} {'driver peak RSS':>16}")
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        r = json.loads(next(line for line in out.stdout.splitlines() if line.startswith("{")))
        print(f"{r['realizations']:>13,} {r['tasks']:>6} {r['seconds']:>7} {r['with_tables']:>10} {r['per_second']:>9,} {r['cpu_us']:>12} {r['peak_rss_mb']:>13} MB")


if __name__ == "__main__":
    main()
