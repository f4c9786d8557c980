"""Command line: ``ensemble run | query | fit | plot | validate | kernels``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import ClusterError, RealizationError, RunDirectoryError, SpecError
from .tables import format_value

__all__ = ["main"]

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except SpecError as e:
        print(f"ensemble: error in spec: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (RunDirectoryError, ClusterError) as e:
        print(f"ensemble: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RealizationError as e:
        target = getattr(args, "out", None) or getattr(args, "spec", "SPEC")
        print(
            f"ensemble: run failed: {e}\n"
            f"Replay it alone: ensemble replay {target} --point {e.point} --realization {e.realization}\n"
            "Finished batches are kept; fix the cause and add --resume.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except BrokenPipeError:  # output piped into e.g. head: stop quietly
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("ensemble: interrupted; finished batches are kept, add --resume to continue", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ensemble", description="Monte-Carlo ensembles of disordered, noisy spin chains.")
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run a spec into a run directory of Parquet tables")
    r.add_argument("spec", type=Path, help="experiment spec (TOML)")
    r.add_argument("--out", type=Path, help="run directory (default: runs/<spec name>)")
    r.add_argument("--executor", choices=["local", "serial"], default="local",
                   help="local: Dask cluster of worker processes on this machine (default); serial: this process")
    r.add_argument("--workers", type=_positive_int, help="worker processes of the local cluster (default: one per core)")
    r.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on an existing Dask cluster: tcp://HOST:PORT or a scheduler file")
    r.add_argument("--resume", action="store_true", help="continue a run directory, skipping finished batches")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    _job_options(r, required=False)
    r.set_defaults(func=cmd_run)

    js = sub.add_parser("job-script", help="print the batch script --cluster would submit (nothing is submitted)")
    _job_options(js, required=True)
    js.set_defaults(func=cmd_job_script)

    q = sub.add_parser("query", help="run SQL (DuckDB) on a run's tables: summary, fits, fit_windows")
    q.add_argument("dir", type=Path)
    q.add_argument("sql")
    q.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    q.set_defaults(func=cmd_query)

    f = sub.add_parser("fit", help="recompute tables and fits from a run's stored partials (no kernels run)")
    f.add_argument("dir", type=Path)
    f.add_argument("--window", nargs=2, type=float, metavar=("T_START", "T_STOP"), help="fit window (default: automatic)")
    f.add_argument("--min-start", type=float, help="earliest start of automatic windows")
    f.set_defaults(func=cmd_fit)

    pl = sub.add_parser("plot", help="plot h(t) with its fits, 1/A vs the sweep, and the imbalances")
    pl.add_argument("dir", type=Path)
    pl.set_defaults(func=cmd_plot)

    rp = sub.add_parser("replay", help="run one realization alone, in this process (after a failure)")
    rp.add_argument("target", type=Path, help="a run directory or a spec file")
    rp.add_argument("--point", type=int, required=True, help="index of the parameter point (as in messages and validate)")
    rp.add_argument("--realization", type=int, required=True, help="realization index within the point")
    rp.add_argument("--save", type=Path, metavar="FILE.npz", help="write the observables (and draws) to this file")
    rp.set_defaults(func=cmd_replay)

    v = sub.add_parser("validate", help="check a spec and show what it would run")
    v.add_argument("spec", type=Path)
    v.set_defaults(func=cmd_validate)

    k = sub.add_parser("kernels", help="list the kernels")
    k.set_defaults(func=cmd_kernels)
    return p


def _per_point(exp) -> str:
    counts = sorted({(p.realizations, p.n_blocks, p.block_size) for p in exp.points})
    return "; ".join(f"{n} per point in {g} blocks of {b}" for n, g, b in counts)


def _job_options(p, required: bool) -> None:
    g = p.add_argument_group("HPC batch jobs (dask-jobqueue); defaults in cluster/jobqueue.yaml")
    g.add_argument("--cluster", choices=["slurm", "pbs"], required=required, help="run the workers in SLURM or PBS jobs")
    g.add_argument("--cluster-config", type=Path, metavar="FILE.yaml", help="job resources (overrides the defaults)")
    g.add_argument("--cores", type=_positive_int, help="cores per job (one worker per core)")
    g.add_argument("--memory", help="memory per job, e.g. 16GiB")
    g.add_argument("--walltime", help="job time limit, HH:MM:SS")
    g.add_argument("--queue", help="partition / queue")
    g.add_argument("--account", help="account to charge")
    g.add_argument("--min-jobs", type=int, help="adaptive scaling: minimum number of jobs")
    g.add_argument("--max-jobs", type=int, help="adaptive scaling: maximum number of jobs")
    g.add_argument("--job-prologue", action="append", metavar="LINE", help="shell line run before the workers (repeatable)")


def _job_config(args):
    from cluster import load_job_config

    keys = ("cores", "memory", "walltime", "queue", "account", "min_jobs", "max_jobs", "job_prologue")
    return load_job_config(args.cluster, args.cluster_config, {k: getattr(args, k) for k in keys})


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return v


# -- commands --------------------------------------------------------------------------------


def cmd_run(args) -> int:
    from .runner import check_memory, make_executor, run
    from .spec import load_spec
    from .store import check_run_dir, open_run_dir

    exp = load_spec(args.spec)
    out = args.out or Path("runs") / exp.name
    check_run_dir(out, exp, args.resume)
    if args.cluster and args.scheduler:
        raise SpecError("--cluster", args.cluster, "either --cluster or --scheduler, not both")
    jobs = _job_config(args) if args.cluster else None
    kind = args.cluster or ("dask" if args.scheduler else args.executor)
    executor = make_executor(kind, args.workers, args.scheduler, jobs)
    with executor:
        check_memory(exp, executor.memory_per_worker)
        store = open_run_dir(out, exp, args.resume)
        print(
            f"{exp.name}: {len(exp.points)} point(s), {exp.total_realizations} realizations of {exp.kernel} "
            f"({_per_point(exp)}); executor: {executor.name}, {'up to ' if args.cluster else ''}{executor.workers} worker(s)",
            file=sys.stderr,
        )
        if executor.dashboard:
            print(f"dashboard: {executor.dashboard}", file=sys.stderr)
        result = run(exp, store, executor, progress=not args.no_progress)
    if store.set_aside:
        print(f"set aside {len(store.set_aside)} corrupt partial file(s) as *.corrupt; their blocks were recomputed")
    if result.realizations_skipped:
        print(f"resumed: {result.realizations_skipped} realizations were already done")
    if result.realizations_run:
        print(
            f"ran {result.realizations_run} realizations in {result.tasks_run} tasks, "
            f"{result.seconds:.1f} s ({result.rate:.1f} realizations/s)"
        )
    _report(exp, result.tables, store)
    return 0


def cmd_job_script(args) -> int:
    from cluster import job_script

    cfg = _job_config(args)
    print(job_script(cfg), end="")
    print(f"# adaptive: {cfg.min_jobs}..{cfg.max_jobs} jobs; worker lifetime {cfg.lifetime} (walltime {cfg.walltime})")
    return 0


def cmd_query(args) -> int:
    import duckdb

    from .query import query

    try:
        df = query(args.dir, args.sql)
    except duckdb.Error as e:
        print(f"ensemble: query failed: {e}\nTables: summary, fits, fit_windows (see README).", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.csv:
        df.to_csv(sys.stdout, index=False)
    else:
        print(df.to_string(index=False) if len(df) else "(no rows)")
    return 0


def cmd_fit(args) -> int:
    from .spec import load_spec
    from .store import DirectoryStore
    from .tables import summarize

    store = DirectoryStore(args.dir)
    if not (args.dir / "run.json").exists():
        raise RunDirectoryError(f"{args.dir} is not a run directory (no run.json)")
    overrides = {}
    if args.window:
        overrides["window"] = list(args.window)
    if args.min_start is not None:
        overrides["min_start"] = args.min_start
    exp = load_spec(args.dir / "spec.toml")
    if overrides:
        from .spec import with_fit

        exp = with_fit(exp, overrides)
    tables = summarize(exp, store)
    _report(exp, tables, store)
    return 0


def cmd_plot(args) -> int:
    from .plot import plot_run

    for path in plot_run(args.dir):
        print(path)
    return 0


def cmd_replay(args) -> int:
    import traceback

    import numpy as np

    from .registry import get_kernel, run_realization
    from .seeding import realization_rng
    from .spec import load_spec

    spec = args.target / "spec.toml" if args.target.is_dir() else args.target
    exp = load_spec(spec)
    if not 0 <= args.point < len(exp.points):
        raise SpecError("--point", args.point, f"a point index in 0..{len(exp.points) - 1} (see ensemble validate)")
    pt = exp.points[args.point]
    if not 0 <= args.realization < pt.realizations:
        raise SpecError("--realization", args.realization, f"an index in 0..{pt.realizations - 1}")
    print(f"point {pt.index} ({pt.label or 'no sweep'}), realization {args.realization}")
    print(f"params: {pt.params}")
    print(f"seed: SeedSequence({exp.seed}, spawn_key=({pt.key}, {args.realization}))")
    module = get_kernel(exp.kernel).load()
    try:
        obs = run_realization(module, pt.params, realization_rng(exp.seed, pt.key, args.realization))
    except Exception:
        traceback.print_exc()
        return EXIT_FAILED
    ok = True
    for name, v in obs.items():
        v = np.asarray(v)
        finite = bool(np.all(np.isfinite(v)))
        ok &= finite
        print(f"  {name}: shape {v.shape}, min {np.nanmin(v):.6g}, max {np.nanmax(v):.6g}{'' if finite else ', NON-FINITE values'}")
    if args.save:
        np.savez(args.save, **obs)
        print(f"observables written to {args.save}")
    return 0 if ok else EXIT_FAILED


def cmd_validate(args) -> int:
    from .spec import load_spec

    exp = load_spec(args.spec)
    from .tasks import plan

    tasks = sum(1 for _ in plan(exp))
    print(f"{args.spec}: valid. kernel {exp.kernel}, {len(exp.points)} point(s), {exp.total_realizations} realizations, {tasks} tasks")
    for pt in exp.points:
        t = getattr(pt.params, "times", None)
        times = f"  {len(t)} times {t[0]:g}..{t[-1]:g}" if t else ""
        print(
            f"  point {pt.index}: {pt.label or '(no sweep)'}  key {pt.key:016x}  {pt.realizations} realizations "
            f"in {pt.n_blocks} blocks of {pt.block_size}{times}"
        )
    return 0


def cmd_kernels(args) -> int:
    from .registry import KERNELS

    for name, entry in sorted(KERNELS.items()):
        params = ", ".join(n for n in entry.param_names() if n != "times")
        print(f"{name}: {entry.summary}\n    parameters: {params}")
    return 0


# -- report ------------------------------------------------------------------------------------


def _report(exp, tables, store) -> None:
    fits = tables["fits"]
    swept = list(exp.sweep) + list(exp.linked)
    kinds = set(fits["fit"]) if "fit" in fits else set()
    if "front" in kinds:
        _print_fits(fits, swept)
    if kinds & {"ipr_point", "crossover"}:
        _print_ipr(fits, swept)
    if "bubble_point" in kinds:
        _print_bubble(fits, swept)
    if "quench_point" in kinds:
        _print_quench(fits, swept)
    path = getattr(store, "path", None)
    if path is None:
        return
    n = len(tables["summary"])
    others = [f for f in ("fits.parquet", "fit_windows.parquet") if (path / "tables" / f).exists()]
    print(f"\nTables in {path / 'tables'}: " + ", ".join([f"summary.parquet ({n} rows)"] + others))
    w = exp.points[-1].swept
    where = " AND ".join(f"{k} = '{v}'" if isinstance(v, str) else f"{k} = {v}" for k, v in w.items()) or "TRUE"
    summary = tables["summary"]
    obs = "Ir" if "front" in kinds else "gamma_dist" if "bubble_point" in kinds else summary["observable"].iloc[0]
    axes = [c for c in summary.columns[summary.columns.get_loc("observable") + 1 : summary.columns.get_loc("n")]
            if summary.loc[summary.observable == obs, c].notna().any()]  # fmt: skip
    cols = ", ".join(axes + ["mean", "sem"])
    order = f" ORDER BY {axes[0]}" if axes else ""
    print("Query them, e.g.:")
    print(f"  ensemble query {path} \"SELECT {cols} FROM summary WHERE observable = '{obs}' AND {where}{order}\"")
    table = "fits" if len(fits) else "summary"
    print(f"  python -c \"import pandas as pd; print(pd.read_parquet('{path}/tables/{table}.parquet'))\"")
    if kinds:
        print(f"  ensemble plot {path}")


def _print_fits(fits, swept) -> None:
    import pandas as pd

    from .analysis.front import AVALANCHE_BOUND

    front = fits[fits["fit"] == "front"]
    print(f"\nFront fits h(t) = A ln t + B; avalanche bound 1/A > 2 ln 4 = {AVALANCHE_BOUND:.3f} (Eq. 18)")
    print(_heads(swept) + f"{'1/A':>10}{'err':>8}{'A':>9}{'err':>8}  {'window':<18}{'linear':<8}bound")
    for _, row in front.iterrows():
        window = f"[{row.t_start:g}, {row.t_stop:g}]" if row.window != "none" else "none"
        z = f" (z = {row.bound_z:+.1f})" if row.bound_z == row.bound_z else ""
        print(
            _keys(row, swept)
            + f"{row.invA:>10.3f}{row.invA_err:>8.3f}{row.A:>9.4f}{row.A_err:>8.4f}  {window:<18}"
            + f"{'yes' if row.window_linear else 'no':<8}{row.bound_holds}{z}"
        )
    thr = fits[fits["fit"] == "threshold_time"]
    if len(thr) and (thr.status == "not reached").all():
        print(f"\nThreshold time t~: Ir stays below r_th = {thr.r_th.iloc[0]:g} at every point within the sampled times")
    elif len(thr):
        print(f"\nThreshold time t~: Ir first exceeds r_th = {thr.r_th.iloc[0]:g} (Sec. IV A)")
        print(_heads(swept) + f"{'t~':>10}{'ln t~':>9}{'err':>7}  {'Ir+-err crosses in':<22}status")
        for _, row in thr.iterrows():
            bracket = f"[{row.t_tilde_lo:g}, {row.t_tilde_hi:g}]"
            print(_keys(row, swept) + f"{row.t_tilde:>10.4g}{row.ln_t_tilde:>9.3f}{row.ln_t_tilde_err:>7.3f}  {bracket:<22}{row.status}")
    groups = [k for k in swept if k not in ("L", "W")]
    for _, row in fits[fits["fit"] == "threshold_scaling"].iterrows():
        which = f" ({_label(row, groups)})" if groups else ""
        if row.status != "fitted":
            print(f"\nEq. (9) ln t~ = alpha L W + c{which}: not fitted ({row.status})")
            continue
        print(
            f"\nEq. (9) ln t~ = alpha L W + c{which} over {row.n_points:g} points: alpha = {row.alpha:.4f} +- {row.alpha_err:.4f}, "
            f"chi2/dof = {row.chi2_dof:.2f}{' (errors scaled)' if row.errors_scaled else ''}; "
            f"W~ = 2 ln 2 / alpha = {row.W_tilde:.2f} +- {row.W_tilde_err:.2f} (Eq. 10)"
        )
    cross = fits[fits["fit"] == "avalanche_crossing"]
    if len(cross):
        print("\nEq. (18) crossing W* of 1/A through 2 ln 4 (bootstrap error):")
        others = [k for k in swept if k != "W"]
        for _, row in cross.iterrows():
            where = _label(row, others) if others else "all points"
            if row.status == "crossing":
                print(f"  {where}: W* = {row.W_star:.2f} +- {row.W_star_err:.2f} (68% [{row.W_star_lo:.2f}, {row.W_star_hi:.2f}], "
                      f"crossing in {100 * row.p_crossing:.0f}% of resamples)")
            elif pd.notna(row.get("W_min")):
                print(f"  {where}: no crossing within W = {row.W_min:g}..{row.W_max:g}: {row.status}")
            else:
                print(f"  {where}: {row.status}")


def _print_ipr(fits, swept) -> None:
    import math

    pts = fits[fits["fit"] == "ipr_point"]
    if "D_OB" in pts:
        print("\nD(O_B) = log IPR of a bath operator (Sec. IV)" + (" and the coupling G (Sec. V B)" if "G" in pts else ""))
        for _, r in pts.iterrows():
            g = f"   G = {r.G:.3f} +- {r.G_err:.3f}" if "G" in pts and r.G == r.G else ""
            print(f"  {_label(r, swept)}: D(O_B) = {r.D_OB:.3f} +- {r.D_OB_err:.3f}{g}")
    grow = fits[fits["fit"] == "bath_growth"]
    if len(grow):
        print(f"\nFig. 3: D(O_B) per added LIOM (theory: log 2 = {math.log(2):.3f})")
        for _, r in grow.iterrows():
            print(f"  n = {r.n_from:g} -> {r.n_to:g}: {r.dD_per_liom:.3f} +- {r.dD_per_liom_err:.3f}")
    for _, r in fits[fits["fit"] == "crossover"].iterrows():
        print(
            f"\nFig. 4 ({_label(r, swept)}): slope of D(sigma^x_i) over the LIOMs = {r.slope:.3f} +- {r.slope_err:.3f} "
            f"(theory 2 log(alpha) = {r.slope_theory:.3f}, z = {r.slope_z:+.1f}); zeta_eff = {r.zeta_eff:.2f}, "
            f"l_c(Eq. 16) = {r.l_c_eff:.3g} (theory zeta {r.zeta:.2f}: {r.l_c_theory:.3g})"
        )
    hyb = fits[fits["fit"] == "hybridization"]
    if len(hyb):
        print("\nHybridization half-width w50 of the probe (App. A); golden rule pi g^2 v(2h) for GOE baths")
        for _, r in hyb.iterrows():
            print(f"  {_label(r, swept)}: w50 = {r.w50:.4f} +- {r.w50_err:.4f}   golden rule {r.w_golden_rule:.4f}"
                  f"   (g^2/xi = {r.w_g2_over_xi:.4f})")  # fmt: skip
    thermal = fits[fits["fit"] == "thermalization"]
    if len(thermal):
        print("\nFig. 5: Delta D(O_B) against G (theory: -> log 2 for G >> 1)")
        for _, r in thermal.iterrows():
            print(f"  g_probe = {r.g_probe:g}: G = {r.G:.3f} +- {r.G_err:.3f}, Delta D = {r.delta_D:.3f} +- {r.delta_D_err:.3f}")


def _print_bubble(fits, swept) -> None:
    pts = fits[fits["fit"] == "bubble_point"]
    print("\nMean gap ratio r (GOE 0.5307, Poisson 0.3863) and site-averaged purity (Eq. 5)")
    for _, r in pts.iterrows():
        print(f"  {_label(r, swept)}: r = {r.r_mean:.4f} +- {r.r_mean_err:.4f}   purity = {r.gamma_avg:.4f} +- {r.gamma_avg_err:.4f}")
    cross = fits[fits["fit"] == "gap_crossing"]
    if len(cross):
        print("\nFig. 2: crossings of r(W) between L and the next L")
        for _, r in cross.iterrows():
            where = "with bubble" if r.n_goe > 0 else "without bubble"
            w = f"W = {r.W_cross:.2f} +- {r.W_cross_err:.2f}" if r.W_cross == r.W_cross else r.status
            print(f"  {where}, L = {r.L_a:g} / {r.L_b:g}: {w}")
    shift = fits[fits["fit"] == "purity_shift"]
    if len(shift):
        print("\nFig. 9: delta_0 = gamma_XXZ(L + 2) - plateau of gamma_i = c - A exp(-i/xi)")
        for _, r in shift.iterrows():
            print(f"  L = {r.L:g}, W = {r.W:g}: delta_0 = {r.delta_0:.4f} +- {r.delta_0_err:.4f} ({r.delta_0_z:+.1f} sigma), "
                  f"xi = {r.fit_xi:.2f} +- {r.fit_xi_err:.2f}" + ("" if r.fit_status == "ok" else f" [{r.fit_status}]"))  # fmt: skip


MAX_REPORT_ROWS = 24


def _print_quench(fits, swept) -> None:
    pts = fits[fits["fit"] == "quench_point"]
    diag = "M_sys_diag" in pts
    print("\nWindow-averaged staggered magnetization M (Eq. 7; 1 = initial state kept, 0 = thermal) and fidelity F (App. A)"
          + (", diagonal ensemble in brackets" if diag else ""))  # fmt: skip
    shown = pts if len(pts) <= MAX_REPORT_ROWS else pts.iloc[:MAX_REPORT_ROWS]
    for _, r in shown.iterrows():
        d = lambda k: f" [{r[k + '_diag']:.3f}]" if diag and r.get(k + "_diag") == r.get(k + "_diag") else ""  # noqa: E731
        print(f"  {_label(r, swept)}: M_sys = {r.M_sys:.3f} +- {r.M_sys_err:.3f}{d('M_sys')}   "
              f"M_env = {r.M_env:.3f} +- {r.M_env_err:.3f}{d('M_env')}   F_sys = {r.F_sys:.3f}   F_env = {r.F_env:.3f}")  # fmt: skip
    if len(pts) > len(shown):
        print(f"  ... {len(pts) - len(shown)} more points: the fits table has them all (fit = 'quench_point')")
    comp = fits[fits["fit"] == "dimer_comparison"]
    if len(comp):
        print("\nApp. B: strongly coupled aligned ladder (W_s = W_e = W) vs the chain (J_int = 0)")
        for _, r in comp.iterrows():
            print(f"  l = {r.l:g}, W = {r.W:g}, J_int = {r.J_int:g}: ladder {r.M_ladder:.3f} +- {r.M_ladder_err:.3f}, "
                  f"chain {r.M_chain:.3f} +- {r.M_chain_err:.3f}")  # fmt: skip


def _label(row, names) -> str:
    return ", ".join(f"{k} = {format_value(row[k])}" for k in names) or "all"


def _heads(names) -> str:
    return "".join(f" {k:>{max(7, len(k))}}" for k in names)


def _keys(row, names) -> str:
    """Fixed-width cells of the swept values (numbers as %g, strings as they are), one space apart."""
    return "".join(f" {format_value(row[k]):>{max(7, len(k))}}" for k in names)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
