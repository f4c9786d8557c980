"""rmt_bath: time per realization vs dimension, diagonalization and IPR parts, one thread.

After the O(dim^3) diagonalization, the kernel gets every matrix element
<psi'|O|psi> of all operators for a state from one product V^T (O psi):
O(dim^2) per operator. The straightforward versions, in the same process:
"loop" computes them in a Python loop over the eigenstates psi' (O(dim^2)
work with a Python step per eigenstate); "full" forms V^T O V (O(dim^3)).

Usage: python benchmarks/bench_rmt.py [--max-log2 13]   (2^14 takes ~11 minutes per diagonalization)
"""

from __future__ import annotations

from _common import best, one_thread

one_thread()

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy.linalg import eigh  # noqa: E402

from kernels.ipr import rmt_bath as k  # noqa: E402


def ipr_ours(V, s, ops, idx):
    phi = np.stack([V[idx ^ m, s] for m in ops], axis=1)
    return np.log(1 / np.sum((V.T @ phi) ** 4, axis=0))


def ipr_loop(V, s, ops, idx):
    out = []
    for m in ops:
        o_psi = V[idx ^ m, s]
        total = 0.0
        for j in range(V.shape[1]):  # one eigenstate psi' at a time
            total += (V[:, j] @ o_psi) ** 4
        out.append(np.log(1 / total))
    return np.array(out)


def ipr_full(V, s, ops, idx):
    out = []
    for m in ops:
        O = np.zeros((idx.size, idx.size))
        O[idx, idx ^ m] = 1.0
        out.append(np.log(1 / np.sum((V.T @ O @ V)[:, s] ** 4)))
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-log2", type=int, default=13)
    args = ap.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, one thread; GOE bath of 6 spins + LIOMs")
    print(f"{'dim':>6} {'eigh s':>8} {'IPR ours ms':>12} {'IPR loop ms':>12} {'IPR full ms':>12} {'loop/ours':>10} {'full/ours':>10}")
    for log2 in range(8, args.max_log2 + 1):
        p = k.Params(bath="goe", l_b=6, n_lioms=log2 - 6)
        H = k.hamiltonian(p, k.sample(p, np.random.default_rng(0)))
        t0 = time.perf_counter()
        E, V = eigh(H, overwrite_a=True, check_finite=False)
        t_eigh = time.perf_counter() - t0
        s, idx = int(np.argmin(np.abs(E - E.mean()))), np.arange(p.dim)
        ops = [m for _, m in k.operators(p)]
        ours = best(lambda: ipr_ours(V, s, ops, idx))
        ref = ipr_ours(V, s, ops, idx)
        loop = best(lambda: ipr_loop(V, s, ops, idx), 1) if p.dim <= 4096 else float("nan")
        if p.dim <= 4096:
            assert np.allclose(ipr_loop(V, s, ops, idx), ref)
        full = best(lambda: ipr_full(V, s, ops, idx), 1) if p.dim <= 2048 else float("nan")
        print(f"{p.dim:>6} {t_eigh:>8.2f} {ours * 1e3:>12.2f} {loop * 1e3:>12.1f} {full * 1e3:>12.1f} "
              f"{loop / ours:>10.0f} {full / ours:>10.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
