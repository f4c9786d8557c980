"""Start-up of the front doors: ``import ensemble``, ``ensemble --help``, ``ensemble validate SPEC``.

Each command runs as a fresh process, interleaved with the reference (``python -c pass``: the interpreter's own
start), ``--repeats`` times; the table gives the median wall and CPU seconds (the child's user + system time,
from ``os.wait4``) and the CPU time beyond the reference. Targets (issue 34): ``import ensemble`` under 0.3 s,
``--help`` under 0.4 s, ``validate`` under 1 s on a quiet machine. The load average is printed first: wall
times on a shared machine can be several times the CPU.

Usage: python benchmarks/bench_startup.py [--repeats 7] [--spec examples/fig4a_anderson.toml]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``cmd`` as a child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--spec", default="examples/fig4a_anderson.toml")
    args = ap.parse_args()
    py = sys.executable
    cli = [py, "-m", "ensemble"]
    commands = {
        "python -c pass (reference)": [py, "-c", "pass"],
        "import ensemble": [py, "-c", "import ensemble"],
        "ensemble --help": [*cli, "--help"],
        f"ensemble validate {args.spec}": [*cli, "validate", args.spec],
    }
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {args.repeats} runs each, interleaved")
    for cmd in commands.values():  # once, untimed: Numba's cache and the OS's file cache warm
        timed(cmd)
    samples = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, cmd in commands.items():
            samples[name].append(timed(cmd))
    ref_cpu = statistics.median(c for _, c in samples["python -c pass (reference)"])
    print(f"{'command':46s} {'wall s':>8s} {'CPU s':>8s} {'CPU - ref':>10s}  (median; range of CPU)")
    for name, runs in samples.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{name:46s} {statistics.median(walls):8.3f} {statistics.median(cpus):8.3f} "
              f"{statistics.median(cpus) - ref_cpu:10.3f}  ({min(cpus):.3f}-{max(cpus):.3f})")


if __name__ == "__main__":
    main()
