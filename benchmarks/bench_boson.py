"""Paper 001 kernels: exact (Chebyshev in the sector) vs TEBD (TeNPy), one thread.

Part 1: one exact realization to t = T (30 sample times, entropies included) for L = 9..15, and
scipy's expm_multiply on the same sector matrix as the reference (L <= 12).
Part 2: TEBD at L = 30 (U = 12, W = 6.5, dt = 0.05, order 4) to t = --tebd-time for each
chi_max: wall time, mean time per step, the bond dimension reached, the truncation error,
and the peak memory of a fresh process (each chi runs in its own subprocess).
Part 3: the crossover: TEBD and exact on the same L = 12 and 15 problems to t = --cross-time.

Usage: python benchmarks/bench_boson.py [--T 200] [--tebd-time 10] [--chis 16 32 64 128] [--cross-time 10]
"""

from __future__ import annotations

from _common import best, one_thread

one_thread()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy.sparse.linalg import expm_multiply  # noqa: E402

from ensemble.spec.experiment import resolve_times  # noqa: E402
from kernels.impurity import boson_impurity as bi  # noqa: E402
from kernels.impurity import boson_tebd as bt  # noqa: E402


def part1(T: float) -> None:
    times = resolve_times({"start": 0.1, "stop": T, "num": 30}, None)
    print(f"exact kernel to t = {T:g} (30 times, entropies):")
    print(f"{'L':>3} {'dim':>7} {'ours s':>9} {'expm_multiply s':>16} {'ratio':>7}")
    for L in (9, 12, 15):
        p = bi.Params(L=L, U=12.0, times=times)
        d = bi.sample(p, np.random.default_rng(L))
        bi.realize(bi.Params(L=L, times=(0.1,)), d)
        ours = best(lambda: bi.realize(p, d), 1)
        ref = float("nan")
        if L <= 12:
            H = bi.hamiltonian(p, d.eps).to_csr().astype(complex)

            def scipy_run():
                psi = np.zeros(p.dim, dtype=complex)
                psi[bi.initial_index(p)] = 1.0
                prev = 0.0
                for t in times:
                    psi = expm_multiply(-1j * (t - prev) * H, psi)
                    prev = t
                    bi.entanglement_entropies(p, psi)

            ref = best(scipy_run, 1)
        print(f"{L:3d} {p.dim:7d} {ours:9.3f} {ref:16.3f} {ref / ours:7.1f}", flush=True)


CHILD = """
import json, resource, sys, time
import numpy as np
from kernels.impurity import boson_tebd as bt
L, chi, T = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
p = bt.Params(L=L, chi_max=chi, dt=0.05, times=(T,), entropy=True)
d = bt.sample(p, np.random.default_rng(0))
t0 = time.perf_counter(); out = bt.realize(p, d); wall = time.perf_counter() - t0
print(json.dumps({"wall": wall, "step": wall / round(T / 0.05), "chi": float(out["chi"][-1]), "eps": float(out["trunc_err"][-1]),
                  "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def part2(T: float, chis: list[int], L: int = 30) -> None:
    print(f"\nTEBD, L = {L}, to t = {T:g} (dt = 0.05, order 4), one process per chi_max:")
    print(f"{'chi_max':>8} {'wall s':>8} {'mean s/step':>14} {'chi reached':>12} {'trunc err':>10} {'peak GB':>8}")
    for chi in chis:
        res = subprocess.run([sys.executable, "-c", CHILD, str(L), str(chi), str(T)], capture_output=True, text=True)
        if res.returncode:
            print(f"{chi:8d} failed: {res.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"{chi:8d} {r['wall']:8.1f} {r['step']:14.3f} {r['chi']:12.0f} {r['eps']:10.1e} {r['rss_gb']:8.2f}", flush=True)


def part3(T: float) -> None:
    print(f"\ncrossover, same problem to t = {T:g} (U = 12, chi_max = 256):")
    print(f"{'L':>3} {'exact s':>9} {'TEBD s':>9} {'TEBD/exact':>11}")
    for L in (12, 15):
        times = (T,)
        pe = bi.Params(L=L, U=12.0, times=times)
        d = bi.sample(pe, np.random.default_rng(L))
        bi.realize(bi.Params(L=L, times=(0.1,)), d)
        te = best(lambda: bi.realize(pe, d), 1)
        pt = bt.Params(L=L, U=12.0, chi_max=256, dt=0.05, times=times)
        t0 = time.perf_counter()
        bt.realize(pt, d)
        tt = time.perf_counter() - t0
        print(f"{L:3d} {te:9.2f} {tt:9.2f} {tt / te:11.1f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--T", type=float, default=200.0)
    ap.add_argument("--tebd-time", type=float, default=10.0)
    ap.add_argument("--chis", type=int, nargs="+", default=[16, 32, 64, 128])
    ap.add_argument("--cross-time", type=float, default=10.0)
    args = ap.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, one thread")
    part1(args.T)
    part2(args.tebd_time, args.chis)
    part3(args.cross_time)


if __name__ == "__main__":
    main()
