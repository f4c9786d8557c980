"""coupled_chains: time per realization vs size, exact vs polynomial (Chebyshev) path vs scipy, and the Fig. 3 map.

Part 1, one thread: one realization of the junction (J_int = 2, W_e = 3, aligned state), 40 sample
times to J t = 50 plus a 21-point window in [40, 50], by
  * "exact": our eigendecomposition path (dense LAPACK eigh, then all times at once),
  * "krylov": our Chebyshev propagator through the sorted times,
  * "scipy": scipy.sparse.linalg.expm_multiply on the same CSR matrix, from one time to the next.
Part 2 (--map): the Fig. 3 map spec (examples/fig3_junction_map.toml) through a 2-worker local
Dask cluster into a temporary run directory; --map-points N runs its first N points only.

Usage: python benchmarks/bench_chains.py [--max-l 7] [--max-exact-l 7] [--map] [--map-points 399]
"""

from __future__ import annotations

from _common import best, one_thread

one_thread()

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.sparse.linalg import expm_multiply  # noqa: E402

from ensemble.spec.experiment import resolve_times  # noqa: E402
from kernels.quench import coupled_chains as cc  # noqa: E402

TIMES = resolve_times({"start": 0.1, "stop": 50.0, "num": 40}, None)


def scipy_path(p: cc.Params, d: cc.Draws) -> np.ndarray:
    s = cc.sector(p.l, p.n_up, p.config)
    H = cc.hamiltonian(p, d.h).to_csr().astype(complex)
    bits = cc.initial_bits(p)
    psi = np.zeros(s.dim, dtype=complex)
    psi[int(np.searchsorted(s.states, int(sum(int(b) << i for i, b in enumerate(bits)))))] = 1.0
    all_t = np.sort(np.concatenate([np.asarray(p.times), cc.window_times(p)]))
    out, prev = [], 0.0
    for t in all_t:
        psi = expm_multiply(-1j * (t - prev) * H, psi)
        prev = t
        out.append(s.spins.T @ np.abs(psi) ** 2)
    return np.array(out)


def part1(max_l: int, max_exact_l: int) -> None:
    print(f"{'l':>2} {'L':>3} {'dim':>6} {'exact s':>9} {'krylov s':>9} {'scipy s':>9} {'exact/krylov':>13} {'scipy/krylov':>13} {'agree':>8}")
    for l in range(2, max_l + 1):
        kw = dict(l=l, config="junction", J_int=2.0, W_e=3.0, times=TIMES, window_start=40.0, window_stop=50.0, window_points=21)
        pk = cc.Params(**kw, method="krylov")
        d = cc.sample(pk, np.random.default_rng(l))
        cc.realize(pk, d)
        reps = 3 if pk.dim < 5000 else 1
        tk = best(lambda: cc.realize(pk, d), reps)
        te, agree = float("nan"), float("nan")
        if l <= max_exact_l:
            pe = cc.Params(**kw, method="exact")
            te = best(lambda: cc.realize(pe, d), reps)
            agree = float(np.max(np.abs(cc.realize(pe, d)["M"] - cc.realize(pk, d)["M"])))
        ts = best(lambda: scipy_path(pk, d), 1) if pk.dim <= 13000 else float("nan")
        print(f"{l:2d} {2 * l:3d} {pk.dim:6d} {te:9.4f} {tk:9.4f} {ts:9.4f} {te / tk:13.1f} {ts / tk:13.1f} {agree:8.1e}", flush=True)


def part2(points: int) -> None:
    from ensemble import make_executor, open_run_dir, parse_spec, execute

    path = Path(__file__).resolve().parent.parent / "examples" / "fig3_junction_map.toml"
    text = path.read_text()
    exp = parse_spec(text)
    if points < len(exp.points):  # the first `points` points: cut the W_e list, then the J_int list
        J = [float(x) for x in re.search(r"J_int = \[(.*)\]", text).group(1).split(",")]
        W = [float(x) for x in re.search(r"W_e = \[(.*)\]", text).group(1).split(",")]
        nJ = max(1, points // len(W))
        text = re.sub(r"J_int = \[.*\]", f"J_int = {J[:nJ]}", text)
        exp = parse_spec(text)
    with tempfile.TemporaryDirectory() as tmp, make_executor("local", workers=2) as ex:
        t0 = time.perf_counter()
        res = execute(exp, open_run_dir(Path(tmp) / "map", exp, resume=False), ex)
        wall = time.perf_counter() - t0
    n = exp.total_realizations
    print(f"map: {len(exp.points)} points, {n} realizations on 2 workers: {wall:.1f} s with tables "
          f"({res.seconds:.1f} s running), {n / wall:.1f} realizations/s")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-l", type=int, default=7)
    ap.add_argument("--max-exact-l", type=int, default=7)
    ap.add_argument("--map", action="store_true")
    ap.add_argument("--map-points", type=int, default=399)
    args = ap.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, one thread per worker; junction, J_int = 2, W_s = 9, W_e = 3")
    part1(args.max_l, args.max_exact_l)
    if args.map:
        part2(args.map_points)


if __name__ == "__main__":
    main()
