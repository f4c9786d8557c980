"""Shift-invert for xxz_bubble on MUMPS (distributed sparse LDL^T) through SLEPc, 1 and 2 MPI processes.

The issue behind POLFED asked for a distributed or multithreaded sparse
factorization to be measured beside the kernel's SuperLU and PARDISO paths.
This runs the same realization as benchmarks/bench_polfed.py (L spins + a
bubble of n_GOE = 4, W = 2, seed 1, the 50 pairs nearest the spectral
centre) through SLEPc's Krylov-Schur with shift-and-invert at the centre,
the factorization by MUMPS (PCCHOLESKY: LDL^T of the symmetric indefinite
H - centre), on P MPI processes, each one thread.

Not a dependency of the project: PETSc/SLEPc come from the system packages
(Debian/Ubuntu: ``apt-get install python3-petsc4py python3-slepc4py``, which
also bring Open MPI and MUMPS) and run under the system's Python
(``--python``, default /usr/bin/python3); the matrix is handed over in a
temporary .npz. Reports wall time of the eigensolve (setup, factorization
and iterations), CPU seconds summed over the processes, peak resident memory
summed over the processes, and the largest eigenvalue difference to the
kernel's own path on the same matrix (``--reference``, PARDISO by default).

Usage: python benchmarks/bench_mumps.py [--L 12 14 16] [--procs 1 2] [--reference pardiso]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

K = 50


def worker(path: str, centre: float) -> None:
    """Under mpiexec, in the system Python with petsc4py/slepc4py."""
    import resource

    import numpy as np
    from petsc4py import PETSc
    from slepc4py import SLEPc

    comm = PETSc.COMM_WORLD
    z = np.load(path)
    ip, ind, val, n = z["indptr"], z["indices"], z["data"], int(z["n"])
    A = PETSc.Mat().create(comm=comm)
    A.setSizes([n, n])
    A.setType("aij")
    lo, hi = PETSc.Vec().createMPI(n, comm=comm).getOwnershipRange()
    rows = ip[lo : hi + 1] - ip[lo]
    A.setPreallocationCSR((rows.astype(PETSc.IntType), ind[ip[lo] : ip[hi]].astype(PETSc.IntType)))
    A.setValuesCSR(rows.astype(PETSc.IntType), ind[ip[lo] : ip[hi]].astype(PETSc.IntType), val[ip[lo] : ip[hi]])
    A.assemble()
    A.setOption(PETSc.Mat.Option.SYMMETRIC, True)
    comm.barrier()
    w0, c0 = time.perf_counter(), time.process_time()
    eps = SLEPc.EPS().create(comm=comm)
    eps.setOperators(A)
    eps.setProblemType(SLEPc.EPS.ProblemType.HEP)
    eps.setDimensions(nev=K + 2)
    eps.setTarget(centre)
    eps.setWhichEigenpairs(SLEPc.EPS.Which.TARGET_MAGNITUDE)
    eps.setTolerances(tol=1e-12, max_it=1000)
    st = eps.getST()
    st.setType(SLEPc.ST.Type.SINVERT)
    ksp = st.getKSP()
    ksp.setType("preonly")
    pc = ksp.getPC()
    pc.setType("cholesky")
    pc.setFactorSolverType("mumps")
    eps.setFromOptions()
    eps.solve()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    nconv = eps.getConverged()
    E = sorted(eps.getEigenvalue(i).real for i in range(nconv))
    E = sorted(sorted(E, key=lambda e: abs(e - centre))[:K])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    out = {"rank": comm.getRank(), "wall": wall, "cpu": cpu, "peak_gb": peak}
    if comm.getRank() == 0:
        out.update(E=E, nconv=nconv)
    print(json.dumps(out), flush=True)  # each rank its own line; the caller sums CPU and memory


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--L", type=int, nargs="+", default=[12, 14, 16])
    ap.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--reference", default="pardiso", help="the kernel's method the eigenvalues are compared with")
    ap.add_argument("--python", default="/usr/bin/python3", help="a Python with petsc4py and slepc4py")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], float(args.worker[1]))
        return
    import platform

    import _common  # noqa: F401  (the closing load / CPU line)
    import numpy as np

    from kernels.bubble import xxz_bubble as kb

    env = dict(os.environ)
    for var, pattern in (("PETSC_DIR", "/usr/lib/petscdir/petsc3*/*-real"), ("SLEPC_DIR", "/usr/lib/slepcdir/slepc3*/*-real")):
        found = sorted(glob.glob(pattern))
        if var not in env and found:
            env[var] = found[-1]
    env.update({v: "1" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")})
    env.pop("PYTHONPATH", None)
    print(f"# {platform.machine()}, {os.cpu_count()} cores; n_GOE = 4, W = 2, k = {K} pairs nearest the centre; "
          f"SLEPc Krylov-Schur, shift-and-invert, MUMPS LDL^T; P MPI processes x 1 thread")  # fmt: skip
    print(f"{'L':>3} {'dim':>7} {'P':>3} {'wall s':>8} {'CPU s':>8} {'peak GB':>8} {'ref wall s':>10} {'|dE| vs ' + args.reference:>18}")
    for L in args.L:
        p = kb.Params(L=L, W=2.0, n_goe=4, n_eig=K, method=args.reference)
        H = kb.hamiltonian(p, kb.sample(p, np.random.default_rng(1)))
        centre = kb._spectral_centre(H)
        t0 = time.perf_counter()
        ref, _, _ = kb.central_eigenpairs(H, K, args.reference)
        ref_wall = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "H.npz")
            np.savez(path, indptr=H.indptr, indices=H.indices, data=H.data, n=H.shape[0])
            for P in args.procs:
                cmd = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "-n", str(P), args.python, __file__,
                       "--worker", path, repr(centre)]  # fmt: skip
                out = subprocess.run(cmd, capture_output=True, text=True, env=env)
                ranks = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
                if out.returncode != 0 or len(ranks) != P:
                    print(f"{L:>3} {H.shape[0]:>7} {P:>3}  failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
                    continue
                r = next(x for x in ranks if x["rank"] == 0)
                r.update(cpu=sum(x["cpu"] for x in ranks), peak_gb=sum(x["peak_gb"] for x in ranks))
                dE = float(np.max(np.abs(np.array(r["E"]) - ref))) if len(r["E"]) == ref.size else float("nan")
                print(f"{L:>3} {H.shape[0]:>7} {P:>3} {r['wall']:>8.1f} {r['cpu']:>8.1f} {r['peak_gb']:>8.2f} "
                      f"{ref_wall:>10.1f} {dE:>18.1e}", flush=True)  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
