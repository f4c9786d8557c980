"""XXZ noisy trajectories: against QuTiP's mcsolve and scipy's expm_multiply, one thread.

1. Per-trajectory wall time to t = 100 at L = 12 against ``qutip.mcsolve`` on the
   same problem: the same fields, the dephasing Lindbladian through the
   collapse operator gamma S^z_1 (rate gamma^2/2, what Eq. (4) averages to),
   the same sample times and <S^z_j> as outputs. QuTiP is run the usual way
   (2^L-dimensional tensor-product space) and, for a stricter comparison, on
   our S^z-sector Hamiltonian; each at its default tolerances (atol 1e-8,
   rtol 1e-6) and at tightened ones (1e-10). Ours with the literal Eq. (4)
   kicks at the default tol = 1e-12 per step and at 1e-8, and with the jump
   unraveling of the same averaged channel (``unraveling = "jumps"``, tol
   1e-12). All per trajectory on the same fields, averaged over noise draws
   (QuTiP's ntraj, our --draws). Needs ``pip install '.[bench]'`` (QuTiP);
   skipped without it.
2. One propagation step exp(-i dt H) psi at L = 16, dt = 0.1 and 0.05:
   ``scipy.sparse.linalg.expm_multiply`` on the same CSR matrix vs our
   Chebyshev step, with their difference.
3. Matrix-vector products per second at L = 12, 14, 16 (ours and scipy CSR).
4. One L = 16 trajectory to t = 100.
5. Statistical efficiency of the two unravelings at L = 8 (fixed fields and
   with disorder): variance of I_gamma per trajectory, and the time to equal
   error bars.
6. With --long: one realization to t = 10^4 (41 sample times, the
   paper-scale spec) with jumps, L = 8..16, for the cluster capacity plan.

Usage: python benchmarks/bench_xxz.py [--ntraj 4] [--draws 10] [--skip-qutip] [--long]
"""

from __future__ import annotations

import os

from _common import best, one_thread

one_thread()

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy.sparse import diags  # noqa: E402
from scipy.sparse.linalg import expm_multiply  # noqa: E402

from ensemble.spec.experiment import resolve_times  # noqa: E402
from kernels.front import xxz_trajectory as x  # noqa: E402
from kernels.numerics.chebyshev import ChebyshevPropagator, matvec  # noqa: E402

TIMES = resolve_times({"start": 0.5, "stop": 100.0, "num": 31}, 0.05)


def ours(L: int, tol: float, unraveling: str, draws: int) -> float:
    """Seconds per trajectory on the fields of seed 1 (as QuTiP's), averaged over noise draws."""
    p = x.Params(L=L, W=5.0, times=TIMES, tol=tol, unraveling=unraveling)
    h = x.sample(p, np.random.default_rng(1)).h
    noise = [x.sample(p, np.random.default_rng(100 + i)) for i in range(draws)]
    x.realize(p, x.Draws(h, noise[0].eta, noise[0].jumps))  # compile and build the sector
    t0 = time.perf_counter()
    for d in noise:
        x.realize(p, x.Draws(h, d.eta, d.jumps))
    return (time.perf_counter() - t0) / draws


def unraveling_efficiency(L: int = 8, n: int = 300) -> None:
    """Per-trajectory variance of I_gamma with kicks and jumps, and time to equal error bars."""
    times = resolve_times({"start": 0.5, "stop": 100.0, "num": 21}, 0.05)
    h = x.sample(x.Params(L=L, times=times), np.random.default_rng(1)).h
    stats = {}
    for u in ("kicks", "jumps"):
        p = x.Params(L=L, W=5.0, times=times, unraveling=u)
        rng = np.random.default_rng(5)
        fixed, disorder = [], []
        t0 = time.perf_counter()
        for _ in range(n):
            d = x.sample(p, rng)
            fixed.append(x.realize(p, x.Draws(h, d.eta, d.jumps))["Ig"])
            disorder.append(x.realize(p, d)["Ig"])
        stats[u] = (np.var(fixed, axis=0, ddof=1), np.var(disorder, axis=0, ddof=1), (time.perf_counter() - t0) / (2 * n))
    (vk, dk, tk), (vj, dj, tj) = stats["kicks"], stats["jumps"]
    for name, a, b in (("fixed fields", vk, vj), ("with disorder", dk, dj)):
        ratio = float(np.mean(b[1:] / a[1:]))  # t[0] = 0.5: kicks barely spread yet
        print(
            f"L = {L}, W = 5, {name}: variance of I_gamma per trajectory, jumps / kicks = {ratio:.2f} "
            f"(mean over {len(times) - 1} times); time per trajectory {tk * 1e3:.1f} / {tj * 1e3:.1f} ms; "
            f"jumps reach equal error bars {tk / tj / ratio:.1f}x sooner"
        )


def long_runs() -> None:
    times = resolve_times({"start": 0.5, "stop": 10000.0, "num": 41}, 0.05)
    for L in (8, 10, 12, 14, 16):
        p = x.Params(L=L, W=6.0, times=times, unraveling="jumps")
        d = x.sample(p, np.random.default_rng(2))
        t0 = time.perf_counter()
        x.realize(p, d)
        print(f"jumps, L = {L}, one realization to t = 10^4 (W = 6, {d.jumps.size} jumps): {time.perf_counter() - t0:.1f} s")


def qutip_per_trajectory(L: int, sector: bool, tight: bool, ntraj: int) -> float:
    import qutip

    p = x.Params(L=L, W=5.0, times=TIMES)
    h = x.sample(p, np.random.default_rng(1)).h
    if sector:
        s = x.sector(L)
        H = qutip.Qobj(x.hamiltonian(p, h).to_csr())
        sz = [qutip.Qobj(diags(s.spins[:, j]).tocsr()) for j in range(L)]  # sparse, as QuTiP's own operators
        psi0 = qutip.basis(s.dim, s.neel)
    else:
        def op(o, j):
            return qutip.tensor([o if i == j else qutip.qeye(2) for i in range(L)])

        sz = [op(qutip.sigmaz() / 2, j) for j in range(L)]
        sp = [op(qutip.sigmap(), j) for j in range(L)]
        H = sum(h[j] * sz[j] for j in range(L))
        for j in range(L - 1):
            H += 0.5 * (sp[j] * sp[j + 1].dag() + sp[j].dag() * sp[j + 1]) + sz[j] * sz[j + 1]
        psi0 = qutip.tensor([qutip.basis(2, 0) if j % 2 == 0 else qutip.basis(2, 1) for j in range(L)])
    options = {"map": "serial", "progress_bar": False}
    if tight:
        options.update(atol=1e-10, rtol=1e-10)
    tlist = np.concatenate([[0.0], TIMES])
    t0 = time.perf_counter()
    qutip.mcsolve(H, psi0, tlist, c_ops=[p.gamma * sz[0]], e_ops=sz, ntraj=ntraj, options=options)
    return (time.perf_counter() - t0) / ntraj


def step_comparison(L: int = 16) -> None:
    p = x.Params(L=L, W=5.0, times=(1.0,))
    H = x.hamiltonian(p, x.sample(p, np.random.default_rng(1)).h)
    csr = H.to_csr().astype(complex)
    prop = ChebyshevPropagator(H)
    psi = np.random.default_rng(0).normal(size=H.dim) + 0j
    psi /= np.linalg.norm(psi)
    for dt in (0.1, 0.05):
        ref = expm_multiply(-1j * dt * csr, psi)
        t_scipy = best(lambda: expm_multiply(-1j * dt * csr, psi), 9)  # its norm estimate is randomized: take the best of 9
        y = psi.copy()
        prop.step(y, dt)
        t_ours = best(lambda: prop.step(psi.copy(), dt), 5)
        print(
            f"L = {L}, dt = {dt}: expm_multiply {t_scipy * 1e3:.2f} ms, Chebyshev ({prop.order(dt)} terms) "
            f"{t_ours * 1e3:.2f} ms: {t_scipy / t_ours:.1f}x   |difference| = {np.linalg.norm(y - ref):.1e}"
        )


def matvec_rates() -> None:
    for L in (12, 14, 16):
        p = x.Params(L=L, W=5.0, times=(1.0,))
        H = x.hamiltonian(p, x.sample(p, np.random.default_rng(1)).h)
        csr = H.to_csr().astype(complex)
        v = np.random.default_rng(0).normal(size=H.dim) + 0j
        y = np.empty_like(v)
        n = max(20, int(2e7 // H.indices.size))
        matvec(v, H.diag, H.indptr, H.indices, H.amps, y)
        ours_t = best(lambda: [matvec(v, H.diag, H.indptr, H.indices, H.amps, y) for _ in range(n)]) / n
        sci_t = best(lambda: [csr @ v for _ in range(n)]) / n
        print(f"L = {L} (dim {H.dim}, {H.indices.size} hops): {1 / ours_t:,.0f} matvecs/s ours, {1 / sci_t:,.0f} scipy CSR")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ntraj", type=int, default=4, help="QuTiP trajectories per timing")
    ap.add_argument("--draws", type=int, default=10, help="our trajectories per timing")
    ap.add_argument("--skip-qutip", action="store_true")
    ap.add_argument("--long", action="store_true", help="also one realization to t = 10^4 per L (jumps)")
    args = ap.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, one thread; {len(TIMES)} sample times to t = 100")
    mine = {
        "kicks, tol 1e-12": ours(12, 1e-12, "kicks", args.draws),
        "kicks, tol 1e-8": ours(12, 1e-8, "kicks", args.draws),
        "jumps, tol 1e-12": ours(12, 1e-12, "jumps", args.draws),
    }
    for k, v in mine.items():
        print(f"ours, L = 12, {k}: {v * 1e3:.1f} ms per trajectory")
    qutip = None
    if not args.skip_qutip:
        try:
            import qutip
        except ImportError:
            print("QuTiP not installed (pip install '.[bench]'): mcsolve comparison skipped")
    if qutip is not None:
        print(f"QuTiP {qutip.__version__} mcsolve, L = 12, seconds per trajectory (ratio to ours: {' / '.join(mine)}):")
        for sector in (False, True):
            for tight in (False, True):
                q = qutip_per_trajectory(12, sector, tight, args.ntraj)
                space = "S^z sector (924)" if sector else "full space (4096)"
                tols = "atol=rtol=1e-10" if tight else "default tolerances"
                print(f"  {space:<18} {tols:<19} {q:7.3f} s  " + " / ".join(f"{q / v:5.1f}x" for v in mine.values()))
    step_comparison()
    matvec_rates()
    p = x.Params(L=16, W=5.0, times=TIMES)
    d = x.sample(p, np.random.default_rng(1))
    t0 = time.perf_counter()
    x.realize(p, d)
    print(f"one L = 16 trajectory to t = 100 (W = 5, {len(TIMES)} sample times): {time.perf_counter() - t0:.2f} s")
    unraveling_efficiency()
    if args.long:
        long_runs()


if __name__ == "__main__":
    main()
