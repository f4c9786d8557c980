"""Command line: ``ensemble run | extend | query | fit | plot | status | replay | validate | reproduce | kernels |
new-kernel | job-script``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from ensemble.errors import (Cancelled, ExecutorError, ExecutorLost, RealizationError, ResultError, RunDirectoryError, SpecError,
                     UsageError)
from ensemble.store.files import StorageError
from ensemble.store.layout import Layout, is_run

__all__ = ["main"]

EXIT_BAD_INPUT = 2
#: The executors on this machine (--executor); a cluster is --scheduler or --cluster.
EXECUTORS = ["local", "processes", "serial"]
EXECUTOR_HELP = ("processes: worker processes forked from this one once the kernel is loaded (the default where this "
                 "platform can fork; a killed worker is replaced); local: a Dask cluster of worker processes on this "
                 "machine (a dashboard; the default elsewhere); serial: this process")
EXIT_FAILED = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: handled like Ctrl-C (every cleanup runs, finished blocks are kept)."""


#: Signals this process received (names): a library that turns the interrupt into an error of its own (a local
#: cluster's "Nanny failed to start") is still reported as the interrupt it was.
SIGNALLED: list[str] = []
#: Set by a signal: a run stops at its next result even where the handler's exception was swallowed (a signal
#: handler's exception raised inside a garbage-collector callback, e.g. distributed's, is "ignored" by Python).
STOP = threading.Event()


def _terminate(signum, frame):
    SIGNALLED.append(signal.Signals(signum).name)
    STOP.set()
    raise Terminated(signal.Signals(signum).name)


def _interrupt(signum, frame):
    SIGNALLED.append("SIGINT")
    STOP.set()
    raise KeyboardInterrupt


def _unraisable(hook_args) -> None:
    """A signal's exception that landed where Python cannot raise it (a callback): STOP carries it; not printed."""
    if isinstance(hook_args.exc_value, KeyboardInterrupt) and SIGNALLED:
        return
    sys.__unraisablehook__(hook_args)


def _handle_signals() -> dict:
    """SIGTERM and SIGHUP end the command like Ctrl-C (every cleanup runs, one line says what is kept); installed
    first, before any import (the entry point, :mod:`ensemble._entry`, holds them until here), so that a signal
    during start-up is that line too. A signal ignored on purpose (nohup, a job in the background) stays ignored.
    Returns what was there before (restored when :func:`main` returns, for callers in the same process)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    before = {"unraisablehook": sys.unraisablehook}
    for sig, handler in ((signal.SIGTERM, _terminate), (signal.SIGHUP, _terminate), (signal.SIGINT, _interrupt)):
        current = signal.getsignal(sig)
        if current is not signal.SIG_IGN and current is not None:
            before[sig] = current
            signal.signal(sig, handler)
    sys.unraisablehook = _unraisable
    return before


def _restore(before: dict) -> None:
    for key, value in before.items():
        if key == "unraisablehook":
            sys.unraisablehook = value
        else:
            signal.signal(key, value)


def _quiet_libraries() -> None:
    """The command line reports every failure itself, in one line: libraries' logging up to ERROR (a Dask client
    retrying a lost scheduler logs tracebacks) is switched off in this process. Python callers keep Dask's
    logging as they configure it."""
    import logging

    logging.disable(logging.ERROR)


def main(argv: list[str] | None = None, held: list[int] | None = None) -> int:
    """Run the command line (``argv``: its arguments, default ``sys.argv[1:]``; ``held``: signals received before,
    reported now) and return the exit code."""
    import logging

    before, logged = _handle_signals(), logging.root.manager.disable
    SIGNALLED.clear()
    STOP.clear()
    try:
        return _main(argv, held)
    finally:
        _restore(before)
        logging.disable(logged)


def _main(argv, held) -> int:
    args = None
    try:
        if held:
            signal.raise_signal(held[0])
        args = _parser().parse_args(argv)
        _quiet_libraries()
        return args.func(args) or 0
    except SpecError as e:
        print(f"ensemble: error in spec: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as e:
        print(f"ensemble: error in options: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (StorageError, ExecutorLost) as e:  # mid-run: finished blocks are kept
        print(f"ensemble: run stopped: {e}", file=sys.stderr)
        return EXIT_FAILED
    except (RunDirectoryError, ExecutorError) as e:
        print(f"ensemble: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RealizationError as e:
        if e.point < 0:  # not one realization of the spec (the kernel's own warm-up point)
            print(f"ensemble: run failed: {e}", file=sys.stderr)
            return EXIT_FAILED
        print(f"ensemble: run failed: {e}\n{_after_failure(args, e)}", file=sys.stderr)
        return EXIT_FAILED
    except ResultError as e:
        print(f"ensemble: tables not written: {e}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # output piped into e.g. head: stop quietly
        sys.stderr.close()
        return 0
    except KeyboardInterrupt as e:
        return _interrupted(args, e.args[0] if isinstance(e, Terminated) else "SIGINT")
    except Cancelled:  # a run stopped by STOP: a signal whose exception was swallowed on the way
        return _interrupted(args, SIGNALLED[0] if SIGNALLED else "SIGINT")
    except Exception:
        if SIGNALLED:  # a library turned the interrupt into an error of its own
            return _interrupted(args, SIGNALLED[0])
        raise


def _interrupted(args, name: str) -> int:
    how = "interrupted" if name == "SIGINT" else f"terminated ({name})"
    print(f"ensemble: {how}; {_what_is_kept(args)}", file=sys.stderr)
    return 128 + signal.Signals[name].value


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (``ensemble: error in options: ...``, exit 2), not a usage dump."""

    def error(self, message: str):
        print(f"ensemble: error in options: {self.prog}: {' '.join(message.split())} (see {self.prog} --help)",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(EXIT_BAD_INPUT)


def _after_failure(args, e: RealizationError) -> str:
    """How to replay a failed realization (from the run directory if it is still there, else from the spec) and
    what is kept."""
    out = getattr(args, "out", None)
    spec = getattr(args, "spec", None)
    target = out if out is not None and is_run(out) else (spec or out or "SPEC")
    blocks = len(Layout(out).partial_files()) if out is not None and is_run(out) else 0
    kept = (f"{blocks} finished task(s) are kept in {out}; fix the cause and run again with --resume" if blocks else
            "no block had finished, so nothing is kept; fix the cause and run again")  # fmt: skip
    return f"Replay it alone: ensemble replay {target} --point {e.point} --realization {e.realization}\n{kept}."


def _what_is_kept(args) -> str:
    """After an interrupt: whether the run directory holds finished blocks to resume from."""
    out = getattr(args, "out", None)
    if out is None or getattr(args, "func", None) not in (cmd_run, cmd_extend, cmd_reproduce):
        return "nothing was written"
    from ensemble.store.layout import Layout

    blocks = len(Layout(out).partial_files())
    if not blocks:
        return f"no block had finished, so nothing is kept{'' if Path(out).exists() else ' (no run directory left)'}"
    resume = f"ensemble run {Path(out) / 'spec.toml'} --out {out} --resume" if args.func is cmd_extend else "the same command with --resume"
    return f"{blocks} finished task(s) are kept in {out}; continue with {resume}"


def _parser() -> argparse.ArgumentParser:
    from ensemble._version import __version__

    p = _Parser(prog="ensemble", description="Monte-Carlo ensembles of disordered, noisy spin chains.")
    p.add_argument("--version", action="version", version=f"ensemble (mbl-ensemble) {__version__}")
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run a spec into a run directory of Parquet tables")
    r.add_argument("spec", type=Path, help="experiment spec (TOML)")
    r.add_argument("--out", type=Path, help="run directory (default: runs/<spec name>)")
    r.add_argument("--executor", choices=EXECUTORS, default=None, help=EXECUTOR_HELP)
    r.add_argument("--workers", type=_positive_int, help="worker processes of the local cluster (default: one per core)")
    r.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on an existing Dask cluster: tcp://HOST:PORT or a scheduler file")
    r.add_argument("--resume", action="store_true", help="continue a run directory, skipping finished batches")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--drop-points", action="store_true",
                   help="with --resume: allow a spec that leaves out points of the run (their partials stay, unused)")
    r.add_argument("--max-realization-hours", type=_positive_float, metavar="H",
                   help="refuse points whose one realization is estimated to take longer (default: 48, "
                        "or the job walltime with --cluster)")
    _job_options(r, required=False)
    r.set_defaults(func=cmd_run)

    ex = sub.add_parser("extend", help="more realizations for a run: every finished block is reused")
    ex.add_argument("dir", type=Path, help="the run directory")
    how = ex.add_mutually_exclusive_group()
    how.add_argument("--realizations", type=_positive_int, metavar="N", help="N realizations at every point")
    how.add_argument("--more", type=_positive_int, metavar="N", help="N more realizations at every point")
    how.add_argument("--sem", type=_positive_float, metavar="X", help="a precision goal's new sem (a tighter goal)")
    how.add_argument("--err", type=_positive_float, metavar="X", help="a precision goal's new error of its fit column")
    ex.add_argument("--max-realizations", type=_positive_int, metavar="N", help="a precision goal's new cap per point")
    ex.add_argument("--executor", choices=EXECUTORS, default=None, help=EXECUTOR_HELP)
    ex.add_argument("--workers", type=_positive_int)
    ex.add_argument("--scheduler", metavar="ADDRESS")
    ex.add_argument("--no-progress", action="store_true")
    ex.add_argument("--max-realization-hours", type=_positive_float, metavar="H")
    _job_options(ex, required=False)
    ex.set_defaults(func=cmd_extend)

    js = sub.add_parser("job-script", help="print the batch script --cluster would submit (nothing is submitted)")
    _job_options(js, required=True)
    js.set_defaults(func=cmd_job_script)

    q = sub.add_parser("query", help="run SQL (DuckDB) on the tables of one run, several runs, or the runs below a directory")
    q.add_argument("dir", type=Path, nargs="+", help="run directories, or directories holding runs (a catalog)")
    q.add_argument("sql", help="the query; views: summary, fits, ... and, for a catalog, runs")
    q.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    q.add_argument("--writable", nargs="?", const=Path("."), type=Path, metavar="DIR",
                   help="let the query read and write files in DIR (default: the working directory) and nowhere else "
                        "(COPY ... TO 'DIR/x.csv', read_csv); DIR must lie outside run directories and hold none. "
                        "By default queries read only the runs' tables")
    q.set_defaults(func=cmd_query)

    f = sub.add_parser("fit", help="recompute tables and fits from a run's stored partials (no kernels run)")
    f.add_argument("dir", type=Path)
    f.add_argument("--window", nargs=2, type=float, metavar=("T_START", "T_STOP"), help="fit window (default: automatic)")
    f.add_argument("--min-start", type=float, help="earliest start of automatic windows")
    f.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help="any [fit] setting of the run's analysis, as in the spec (TOML value), e.g. --set r_th=0.2")
    f.add_argument("--from-spec", action="store_true",
                   help="start from the spec's [fit] (default: the settings the tables were last computed with)")
    f.set_defaults(func=cmd_fit)

    pl = sub.add_parser("plot", help="plot h(t) with its fits, 1/A vs the sweep, and the imbalances")
    pl.add_argument("dir", type=Path)
    pl.add_argument("--format", default="png", metavar="FMT[,FMT]",
                    help="png, pdf, svg, or several comma-separated (default png); caption and spec go in the metadata")
    pl.add_argument("--style", metavar="STYLE", help="a matplotlib style name or .mplstyle file, over the project's")
    pl.add_argument("--size", choices=["single", "double"], help="journal column: single 3.4 in, double 7 in "
                    "(default: by the figure's layout)")  # fmt: skip
    pl.add_argument("--out", type=Path, metavar="DIR", help="write the figures to DIR (outside every run directory) "
                    "instead of the run's plots/")  # fmt: skip
    pl.add_argument("--overwrite", action="store_true", help="with --out: replace figures of the same names in DIR")
    pl.set_defaults(func=cmd_plot)

    st = sub.add_parser("status", help="progress of a run (going or not) and provisional results from its finished blocks")
    st.add_argument("dir", type=Path)
    st.add_argument("--no-tables", action="store_true", help="progress only, no provisional tables")
    st.set_defaults(func=cmd_status)

    rp = sub.add_parser("replay", help="run one realization alone, in this process (after a failure)")
    rp.add_argument("target", type=Path, help="a run directory or a spec file")
    rp.add_argument("--point", type=int, required=True, help="index of the parameter point (as in messages and validate)")
    rp.add_argument("--realization", type=int, required=True, help="realization index within the point")
    rp.add_argument("--save", type=Path, metavar="FILE.npz", help="write the observables to this new file (outside "
                    "every run directory)")  # fmt: skip
    rp.add_argument("--overwrite", action="store_true", help="with --save: replace the file if it exists")
    rp.set_defaults(func=cmd_replay)

    v = sub.add_parser("validate", help="check a spec and show what it would run, its cost and memory")
    v.add_argument("spec", type=Path)
    v.add_argument("--workers", type=_positive_int, help="check memory against a local cluster of this many workers")
    v.add_argument("--max-realization-hours", type=_positive_float, metavar="H", help="as for run")
    _job_options(v, required=False)
    v.set_defaults(func=cmd_validate)

    rr = sub.add_parser("reproduce", help="run the specs of one seed paper's key figures and collect its figures")
    rr.add_argument("paper", help="000..004 (or 0..4, or a name: chains, boson, bubble, front, rmt)")
    rr.add_argument("--scale", choices=["laptop", "paper"], default="laptop",
                    help="laptop: minutes each on 2 cores (default); paper: the papers' sizes, for a cluster")
    rr.add_argument("--out", type=Path, help="directory of the runs and figures/ (default: runs/paper<NNN>-<scale>)")
    rr.add_argument("--specs", type=Path, help="directory of the example specs (default: ./examples, or the checkout's)")
    rr.add_argument("--plan", action="store_true", help="print what would run and its cost, run nothing")
    rr.add_argument("--executor", choices=EXECUTORS, default=None, help=EXECUTOR_HELP)
    rr.add_argument("--workers", type=_positive_int, help="worker processes of the local cluster (default: one per core)")
    rr.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster: tcp://HOST:PORT or a scheduler file")
    rr.add_argument("--no-progress", action="store_true", help="no progress bar")
    rr.add_argument("--max-realization-hours", type=_positive_float, metavar="H",
                    help="refuse points whose one realization is estimated to take longer (default: 48)")
    _job_options(rr, required=False)
    rr.set_defaults(func=cmd_reproduce, resume=False, drop_points=False)

    nk = sub.add_parser("new-kernel", help="write a working, tested skeleton of your own kernel and analysis (a plugin)")
    nk.add_argument("name", help="the kernel's name, a lowercase Python identifier (e.g. my_chain)")
    nk.add_argument("--out", type=Path, help="a new or empty directory for it (default: ./NAME)")
    nk.add_argument("--static", action="store_true", help="a kernel without time dependence (a disorder sample's "
                    "levels, a ground state): no [times], an analysis of its averages")  # fmt: skip
    nk.set_defaults(func=cmd_new_kernel)

    k = sub.add_parser("kernels", help="list the kernels, or describe one: parameters, observables, fit settings")
    k.add_argument("name", nargs="?", help="a kernel to describe (a built-in name or module:package.module)")
    k.set_defaults(func=cmd_kernels)
    return p


def _job_options(p, required: bool) -> None:
    p.add_argument("--threads", type=_positive_int, default=None, metavar="T",
                   help="BLAS threads per worker, for big dense realizations (rmt_bath at 2^14, TEBD at large chi): "
                        "cores/T workers on this machine or per job (default 1)")  # fmt: skip
    g = p.add_argument_group("HPC batch jobs (dask-jobqueue); defaults in cluster/jobqueue.yaml")
    g.add_argument("--cluster", metavar="{slurm,pbs}", required=required,
                   help="run the workers in SLURM or PBS jobs (or the jobs of another registered executor backend)")
    g.add_argument("--cluster-config", type=Path, metavar="FILE.yaml", help="job resources (overrides the defaults)")
    g.add_argument("--cores", type=_positive_int, help="cores per job (cores / threads workers)")
    g.add_argument("--memory", help="memory per job, e.g. 16GiB")
    g.add_argument("--walltime", help="job time limit, HH:MM:SS")
    g.add_argument("--queue", help="partition / queue")
    g.add_argument("--account", help="account to charge")
    g.add_argument("--min-jobs", type=int, help="adaptive scaling: minimum number of jobs")
    g.add_argument("--max-jobs", type=int, help="adaptive scaling: maximum number of jobs")
    g.add_argument("--job-prologue", action="append", metavar="LINE", help="shell line run before the workers (repeatable)")


#: Job options of the command line, handed to the executor backend (which refuses them if it starts no jobs).
JOB_OPTIONS = ("cluster_config", "cores", "threads", "memory", "walltime", "queue", "account", "min_jobs", "max_jobs",
               "job_prologue")  # fmt: skip


def _request(args):
    """The executor request of the command line: --cluster, --scheduler or --executor, with their options."""
    from ensemble.api import request_for

    if getattr(args, "cluster", None) and getattr(args, "scheduler", None):
        raise UsageError("--cluster", args.cluster, "either --cluster or --scheduler, not both")
    kind = args.cluster or ("dask" if getattr(args, "scheduler", None) else getattr(args, "executor", None))
    options = {k: getattr(args, k, None) for k in JOB_OPTIONS}
    return request_for(kind, getattr(args, "workers", None), getattr(args, "scheduler", None), None, args.threads or 1,
                       options=options)  # fmt: skip


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = 0.0
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return v


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return v


# -- commands --------------------------------------------------------------------------------


def cmd_extend(args) -> int:
    from ensemble.api import grown_experiment

    exp = grown_experiment(args.dir, args.realizations, args.more, sem=args.sem, err=args.err,
                           max_realizations=args.max_realizations)  # fmt: skip
    args.out, args.resume, args.drop_points = args.dir, True, False
    return _run(exp, args)


def cmd_run(args) -> int:
    from ensemble.spec.experiment import load_spec

    return _run(load_spec(args.spec), args)


def _run(exp, args) -> int:
    from ensemble.api import run_into
    from ensemble.present.figures import refresh_plots

    out = args.out = args.out or Path("runs") / exp.name
    result, store = run_into(exp, out, request=_request(args), resume=args.resume, progress=not args.no_progress,
                             max_realization_hours=args.max_realization_hours,
                             drop_points=getattr(args, "drop_points", False), cancel=STOP)  # fmt: skip
    _print_set_aside(store)
    if result.realizations_skipped:
        print(f"resumed: {result.realizations_skipped} realizations were already done")
    if result.realizations_run:
        print(
            f"ran {result.realizations_run} realizations in {result.tasks_run} tasks, "
            f"{result.seconds:.1f} s ({result.rate:.1f} realizations/s)"
        )
    _report(exp, result.tables, store)
    for line in _at_cap(exp, result.precision, out):
        print(line)
    if result.refine:
        from ensemble.running.status import _refine_lines

        print("\n" + "\n".join(_refine_lines(result.refine)))
    if not result.tables_unchanged:
        refresh_plots(out)
    return 0


def _at_cap(exp, precision: dict | None, out: Path) -> list[str]:
    """One line per point of a precision run that stopped at its cap short of the goal (and how to go on)."""
    if not precision:
        return []
    goal = exp.precision
    lines = []
    for pt in exp.points:
        rec = precision.get("points", {}).get(f"{pt.key:016x}")
        if not rec or rec.get("status") != "cap":
            continue
        where = ", ".join(f"{k} = {v}" for k, v in pt.swept.items()) or "the only point"
        err = rec.get("error")
        short = f"error {err:.3g} > goal {goal.goal:g}" if err is not None else "error undetermined"
        lines.append(f"point {pt.index} ({where}): stopped at the cap of {rec['realizations']} realizations, "
                     f"{short}; `ensemble extend {out} --max-realizations N` goes on")  # fmt: skip
    return lines


def _print_set_aside(store) -> None:
    for path, why in store.set_aside:
        print(f"set aside {path.name} ({why}); its blocks are recomputed by --resume")
    for path in store.strays:
        print(f"ignored {path}: not a partial file")
    if len(store.versions) > 1:
        names = ", ".join(str(v) if v else "unrecorded" for v in sorted(store.versions, key=str))
        print(f"note: the tables combine blocks computed by different versions of mbl-ensemble ({names}); "
              "tables/manifest.json lists them (partials_from)")


def cmd_job_script(args) -> int:
    from ensemble.running.executors import backend

    request = _request(args)
    b = backend(request.kind)
    if not hasattr(b, "job_script"):
        raise UsageError("--cluster", args.cluster, f"a backend that submits jobs (the {b.name} executor writes no job script)")
    print(b.job_script(request), end="")
    return 0


def cmd_query(args) -> int:
    import duckdb

    from ensemble.store.query import query

    try:
        df = query(args.dir, args.sql, writable=args.writable if args.writable is not None else False)
    except duckdb.PermissionException as e:
        where = (f"with --writable, files in {args.writable} only" if args.writable is not None else
                 "queries read the run's tables only (--writable DIR lets DuckDB read and write files in DIR)")  # fmt: skip
        print(f"ensemble: query refused: {_one_line(e)}; {where}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except duckdb.Error as e:
        print(f"ensemble: query failed: {_one_line(e)} (tables: {', '.join(sorted(_table_names(args.dir)))})", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.csv:
        df.to_csv(sys.stdout, index=False)
    else:
        print(df.to_string(index=False) if len(df) else "(no rows)")
    _note_left_out(args.dir)
    return 0


def _note_left_out(run_dirs) -> None:
    """A catalog's runs whose tables are not in it (no tables yet, a damaged record): said, never silent."""
    from ensemble.store.query import survey

    found, catalog = survey(run_dirs)
    left = [(r, why) for r, why in found if why is not None]
    if catalog and left:
        shown = "; ".join(f"{r}: {why}" for r, why in left[:3]) + ("; ..." if len(left) > 3 else "")
        print(f"ensemble: note: {len(left)} of {len(found)} runs are not in the tables ({shown}); the runs view "
              "lists them with the reason (column problem)", file=sys.stderr)  # fmt: skip


def _settings(items: list[str]) -> dict:
    """KEY=VALUE pairs of --set, each VALUE read as a TOML value."""
    from ensemble.spec.experiment import tomllib

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            out[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except (ValueError, tomllib.TOMLDecodeError):
            raise UsageError("--set", item, "KEY=VALUE with a TOML value, e.g. --set r_th=0.2 or --set window=[10.0,1000.0]") from None
    return out


def _one_line(e: BaseException) -> str:
    """A library's multi-line message (DuckDB's caret diagrams) as one line."""
    return " ".join(str(e).split())


def _table_names(run_dirs) -> list[str]:
    from ensemble.store.query import find_runs

    runs, catalog = find_runs(run_dirs)
    from ensemble.store.layout import Layout

    return sorted({p.stem for r in runs for p in Layout(r).table_files()} | ({"runs"} if catalog else set()))


def cmd_fit(args) -> int:
    from ensemble.api import refit
    from ensemble.present.figures import refresh_plots

    exp, tables, store = refit(args.dir, window=args.window, min_start=args.min_start, settings=_settings(args.settings),
                               from_spec=args.from_spec, origin=" ".join(["ensemble fit", *sys.argv[2:]]), note=print)  # fmt: skip
    _print_set_aside(store)
    _report(exp, tables, store)
    refresh_plots(args.dir)
    return 0


def cmd_plot(args) -> int:
    from ensemble.present.figures import write_figures

    from ensemble.errors import EnsembleError

    from ensemble.present.figstyle import check_formats, check_style

    formats = check_formats(args.format)
    check_style(args.style)
    if args.overwrite and args.out is None:
        raise UsageError("--overwrite", True, "with --out DIR (the run's own plots/ are always redrawn)")
    try:
        paths = write_figures(args.dir, formats=formats, style=args.style, size=args.size, out=args.out,
                              overwrite=args.overwrite)  # fmt: skip
    except EnsembleError:
        raise
    except Exception as e:  # a figure that cannot be drawn: one line, the tables are untouched
        print(f"ensemble: drawing the figures of {args.dir} failed ({type(e).__name__}: {e}); the tables are "
              "unchanged (ensemble query / Run.summary still read them)", file=sys.stderr)  # fmt: skip
        return 1
    for path in paths:
        print(path)
    return 0


def cmd_status(args) -> int:
    from ensemble.store.runs import load_run
    from ensemble.running.status import status

    st = status(args.dir, tables=not args.no_tables)
    print(st)
    if st.tables:
        exp = load_run(args.dir)
        n = st.tables["summary"]["n"]
        print(f"\nPROVISIONAL results from {st.done} of {st.total} realizations ({n.min()}..{n.max()} per point); "
              "final tables are written to tables/ when the run ends")  # fmt: skip
        for line in exp.model.report(exp, st.tables):
            print(line)
    return 0


def cmd_replay(args) -> int:
    from ensemble.api import replay

    r = replay(args.target, args.point, args.realization, save=args.save, overwrite=args.overwrite, announce=print)
    if r.traceback is not None:
        print(r.traceback, file=sys.stderr, end="")  # replay is where a kernel's own failure is shown whole
        return EXIT_FAILED
    if r.output_error is not None:
        print(f"ensemble: replay: kernel {r.experiment.kernel.name} {r.output_error}", file=sys.stderr)
        return EXIT_FAILED
    for name, (shape, lo, hi, flag) in r.described().items():
        print(f"  {name}: shape {shape}, min {lo}, max {hi}{flag}")
    if r.saved is not None:
        print(f"observables written to {r.saved}")
    return 0 if r.ok else EXIT_FAILED


def cmd_validate(args) -> int:
    from ensemble.api import check_plan, plan_for
    from ensemble.spec.experiment import load_spec

    exp = load_spec(args.spec)
    request = _request(args)
    plan = plan_for(exp, request, check=False)  # the plan is shown, then checked against the workers
    print(f"{args.spec}: valid. kernel {exp.kernel.name} ({exp.model.name} analysis), {len(exp.points)} point(s), "
          f"{exp.total_realizations} realizations")  # fmt: skip
    for line in plan.warnings:
        print(f"warning: {line}")
    from ensemble.running.ledger import OFF_BY

    history = plan.recorded
    for pt, e in zip(exp.points, plan.estimates):
        t = getattr(pt.params, "times", None)
        times = f"  {len(t)} times {t[0]:g}..{t[-1]:g}" if t else ""
        mem_text = f"{e.memory / 2**20:.0f} MiB" if e.memory is not None else "memory not declared"
        print(
            f"  point {pt.index}: {pt.label or '(no sweep)'}  key {pt.key:016x}  {pt.realizations} realizations "
            f"in {pt.n_blocks} blocks of {pt.block_size}{times}  ~{_human_seconds(e.seconds)} ({e.source}) and "
            f"{mem_text} per realization"
        )
        if pt.key in history:
            h = history[pt.key]
            print(f"    recorded on this machine: {_human_seconds(h.seconds)} per realization over {h.realizations} "
                  f"realizations of earlier runs (latest {h.latest[:10]}), worker peak {h.peak_bytes / 2**20:.0f} MiB")  # fmt: skip
            ratio = e.seconds / h.seconds if h.seconds > 0 else float("inf")
            if exp.kernel.declares_cost and not 1 / OFF_BY <= ratio <= OFF_BY:
                print(f"    the cost model is off by {max(ratio, 1 / ratio):.1f}x on this machine "
                      f"({'over' if ratio > 1 else 'under'}estimates); the recorded cost is used below")  # fmt: skip
    how = ("the kernel's own cost model" if exp.kernel.declares_cost else "measured here: the kernel declares no cost model")
    if exp.kernel.declares_cost and _builtin(exp.kernel.name):
        how = "the kernel's cost model, calibrated on the reference machine (benchmarks/bench_cost.py)"
    print(f"estimated cost: {plan.cpu_hours:.3g} CPU-hours ({how})" + (" at the starting realizations" if plan.goal else ""))
    if history:
        hours = plan.recorded_cpu_hours
        print(f"at the costs recorded on this machine: {hours:.3g} CPU-hours ({len(history)} of {len(exp.points)} "
              "point(s) recorded, the others as estimated)" + (" at the starting realizations" if plan.goal else ""))
    if plan.goal:
        goal = exp.precision
        print(f"precision goal ({goal.describe()}, cap {goal.max_realizations}): a pilot of each point's first "
              "realizations estimates what it needs")  # fmt: skip
        for pt, g in zip(exp.points, plan.goal):
            if g.needed is None:
                print(f"  point {pt.index}: {g.start}..{g.cap} realizations ({g.why})")
            else:
                cap = "; likely to stop at the cap" if g.at_cap else ""
                print(f"  point {pt.index}: ~{g.needed} realizations, ~{_human_seconds(g.seconds)} of CPU ({g.why}){cap}")
        if plan.goal_cpu_hours is not None:
            print(f"estimated cost with the goal: {plan.goal_cpu_hours:.3g} CPU-hours")
    if exp.refine is not None:
        r, control = exp.refine, exp.scaling.control
        per_value = len(exp.points) // max(len(exp.sweep[control]), 1)
        most = len(exp.points) + r.max_points * per_value
        mean = sum(e.seconds for e in plan.estimates) / max(len(plan.estimates), 1)
        print(f"refining sweep ({r.describe()}): starts with {len(exp.points)} points; at most {most} "
              f"({r.max_points} added values of {control} x {per_value} points each), at most "
              f"{most * r.max_realizations * mean / 3600:.3g} CPU-hours if every point reached the cap")  # fmt: skip
    lo, hi = plan.task_seconds
    size = (f"batch_size = {exp.batch_size}" if not plan.schedule.automatic else
            f"sized automatically: up to {exp.scheduling.task_seconds:g} s of CPU each, at least "
            f"{exp.scheduling.tasks_per_worker} per worker")  # fmt: skip
    span = _human_seconds(lo) if lo == hi else f"{_human_seconds(lo)}..{_human_seconds(hi)}"
    print(f"tasks: {plan.tasks} of ~{span} of CPU each ({size}); parallel wall estimate "
          f"{_human_seconds(plan.wall_seconds)} on {plan.workers} worker(s) of the {request.kind} executor")  # fmt: skip
    check_plan(plan, request, args.max_realization_hours)
    memory = plan.memory_per_worker
    where = f"{request.kind} jobs" if request.jobs is not None else f"a {request.kind} executor of {plan.workers} worker(s)"
    print(f"fits {where}: at most {memory / 2**30:.1f} GiB per worker" if memory else "")
    return 0


def _builtin(kernel_name: str) -> bool:
    """A kernel this project ships (its cost model calibrated by benchmarks/bench_cost.py), not a plugin's."""
    from ensemble.models import kernel_plugin

    plugin = kernel_plugin(kernel_name)
    return bool(plugin and plugin.builtin)


def cmd_reproduce(args) -> int:
    from ensemble.api import plan_for
    from ensemble.running.executors import backend
    from ensemble.present.reproduce import collect_figures, find_specs, resolve_paper
    from ensemble.present.figures import write_figures
    from ensemble.spec.experiment import load_spec

    paper = resolve_paper(args.paper)
    specs = find_specs(paper, args.scale, args.specs)
    exps = [load_spec(s) for s in specs]  # every spec valid before anything runs
    request = _request(args)
    workers = backend(request.kind).planned_workers(request)
    out = args.out or Path("runs") / f"paper{paper.number}-{args.scale}"
    from ensemble.store.guard import new_directory

    new_directory(out, "--out")  # it holds the runs and figures/, and lies in no run
    print(f"paper {paper.number}: {paper.title}; {args.scale} scale, {len(exps)} spec(s), into {out}")
    remote = bool(args.cluster or args.scheduler)
    total = 0.0
    for spec, exp in zip(specs, exps):
        # checked against the workers that would run it (paper scale without a cluster is only planned)
        plan = plan_for(exp, request, args.max_realization_hours, check=remote or args.scale == "laptop")
        seconds = plan.cpu_hours * 3600
        peak = max((e.memory for e in plan.estimates if e.memory is not None), default=None)
        total += seconds
        print(f"  {spec}: {len(exp.points)} point(s), {exp.total_realizations} realizations of {exp.kernel.name}, "
              f"~{seconds / 3600:.3g} CPU-hours" + (f", up to {peak / 2**30:.2g} GiB per realization" if peak else ""))  # fmt: skip
    print(f"estimated cost: {total / 3600:.3g} CPU-hours, about {_human_seconds(total / workers)} on {workers} worker(s)")
    if args.plan or (args.scale == "paper" and not remote):
        if not args.plan:
            print(f"paper scale runs on a cluster: add --cluster slurm|pbs (job options as for ensemble run) "
                  f"or --scheduler ADDRESS; ensemble reproduce {paper.number} --scale paper --cluster slurm --plan "
                  "checks the plan against the jobs' memory and walltime")  # fmt: skip
        return 0
    dirs = []
    for exp in exps:
        args.out = out / exp.name
        args.resume = is_run(args.out)  # a second call continues and refits
        print(f"\n== {exp.name}")
        _run(exp, args)
        write_figures(args.out)
        dirs.append(args.out)
    figures = collect_figures(dirs, out / "figures")
    print(f"\n{len(figures)} figure(s) in {out / 'figures'}:")
    for f in figures:
        print(f"  {f.name}")
    return 0


def _human_seconds(s: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.3g} s"


def cmd_new_kernel(args) -> int:
    from ensemble.present.template import write_skeleton

    out = args.out or Path(args.name)
    for path in write_skeleton(args.name, out, static=args.static):
        print(path)
    print(f"next: cd {out} && python3 -m pip install -e . && python3 -m pytest test_{args.name}.py "
          f"&& ensemble kernels {args.name}  (CONTRIBUTING.md explains each file)")
    return 0


def cmd_kernels(args) -> int:
    from ensemble.present.describe import kernel_info
    from ensemble.models import kernel_conflicts, kernel_names, kernel_plugin, resolve_kernel

    if args.name:
        print(kernel_info(args.name))
        return 0
    clashes = kernel_conflicts()
    for name in kernel_names():
        plugin = kernel_plugin(name)
        if name in clashes:
            print(f"{name}: AMBIGUOUS: registered by {len(clashes[name])} packages; a spec must name the module:")
            for p in clashes[name]:
                print(f'    kernel = "module:{p.value}"  (from {p.source})')
            continue
        try:
            kernel, model = resolve_kernel(name)
        except SpecError as e:  # a plugin that cannot be loaded is listed with why, not hidden
            print(f"{name}: cannot be loaded ({e.allowed})\n    from: {plugin.source}")
            continue
        params = ", ".join(n for n in kernel.param_names if n != "times")
        print(f"{name}: {kernel.summary}\n    parameters: {params}\n    analysis: {model.name}\n    from: {plugin.source}")
    return 0


# -- report ------------------------------------------------------------------------------------


def _report(exp, tables, store) -> None:
    """The model's report, then where the tables are and how to query them."""
    for line in exp.model.report(exp, tables):
        print(line)
    path = store.path
    if path is None:
        return
    n = len(tables["summary"])
    others = sorted(f.name for f in Layout(path).table_files() if f.name != "summary.parquet")
    print(f"\nTables in {path / 'tables'}: " + ", ".join([f"summary.parquet ({n} rows)"] + others))
    summary = tables["summary"]
    obs = exp.model.headline if exp.model.headline in set(summary["observable"]) else summary["observable"].iloc[0]
    where = " AND ".join([f"observable = '{obs}'"] + [_sql_equals(k, v) for k, v in exp.points[-1].swept.items()])
    axes = [c for c in summary.columns[summary.columns.get_loc("observable") + 1 : summary.columns.get_loc("n")]
            if summary.loc[summary.observable == obs, c].notna().any()]  # fmt: skip
    cols = ", ".join(axes + ["mean", "sem"])
    order = f" ORDER BY {axes[0]}" if axes else ""
    print("Query them, e.g.:")
    print(f'  ensemble query {path} "SELECT {cols} FROM summary WHERE {where}{order}"')
    table = "fits" if len(tables["fits"]) else "summary"
    print(f"  python -c \"import pandas as pd; print(pd.read_parquet('{path}/tables/{table}.parquet'))\"")
    if len(tables["fits"]):
        print(f"  ensemble plot {path}")


def _sql_equals(name: str, value) -> str:
    if isinstance(value, str):
        return f"{name} = '{value}'"
    return f"{name} = {value}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
