"""SQL on runs' tables through DuckDB: each table is a view named after it; many runs are queried as one.

One run directory: views ``summary``, ``fits`` (and the model's own tables)
hold that run's tables as they are. Several run directories, or a directory
holding runs (found below it), make a *catalog*: each view is the union of
that table over the runs (columns matched by name; a column a run lacks is
NULL), with ``run`` (the run's directory below the runs' common parent) and
``run_dir`` in front, and a view
``runs`` holds one row per run with its provenance (kernel, model, seed,
points, realizations, creation time, git revision, host). A view ``costs``
(one run or a catalog) holds what each point cost: realizations, CPU seconds,
worker peak memory and the machine, from the run's record (:func:`costs_table`).

By default the connection is read-only with respect to files: the tables are
handed to DuckDB as pyarrow datasets (scanned lazily, with projection and
filter pushdown on the files' statistics) and DuckDB's own file access is
switched off and locked, so a query cannot read other files
(``read_csv('/etc/passwd')``) or write any (``COPY ... TO``). ``writable=DIR``
gives DuckDB the one directory ``DIR`` (``True``: the working directory) through
its own ``allowed_directories``, with every other file access still off and
the configuration locked: exports go there and nowhere else. ``DIR`` must lie
outside every run directory and hold none (:func:`ensemble.store.guard.export_directory`),
so no query, however it spells a path, writes into a run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from typing import TYPE_CHECKING

from ensemble.errors import RunDirectoryError, UsageError
from ensemble.store.layout import Layout, is_run, read_record

if TYPE_CHECKING:  # DuckDB and pandas are imported when a query runs: `import ensemble` stays light
    import duckdb
    import pandas as pd

__all__ = ["connect", "costs_table", "find_runs", "query", "run_names", "runs_table"]


def find_runs(paths: str | Path | Iterable[str | Path]) -> tuple[list[Path], bool]:
    """Run directories with tables named by ``paths`` (runs, or directories holding runs), and whether this is a
    catalog. A single path that is a run is not a catalog (its tables keep their columns). Runs of a catalog
    that have no tables or a damaged record are left out of the tables (:func:`survey` says which and why)."""
    found, catalog = survey(paths)
    return [r for r, problem in found if problem is None], catalog


def survey(paths: str | Path | Iterable[str | Path]) -> tuple[list[tuple[Path, str | None]], bool]:
    """Every run directory named by ``paths`` or found below them, each with why its tables cannot be queried
    (None: they can); and whether this is a catalog. RunDirectoryError if a path does not exist or holds no run."""
    paths = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not paths:
        raise UsageError("DIR", [], "one or more run directories (or directories holding runs)")
    runs: list[Path] = []
    for p in paths:
        if not p.exists():
            raise RunDirectoryError(f"{p} does not exist")
        if is_run(p):
            runs.append(p)
            continue
        below = _runs_below(p) if p.is_dir() else []
        if not below:
            raise RunDirectoryError(f"{p} is not a run directory (no run.json) and holds no runs")
        runs += below
    runs = list(dict.fromkeys(runs))
    catalog = len(paths) > 1 or not is_run(paths[0])
    found = [(r, _problem(r)) for r in runs]
    if not catalog and found[0][1] is not None:
        raise RunDirectoryError(f"{runs[0]}: {found[0][1]}")
    if not any(problem is None for _, problem in found):
        raise RunDirectoryError(f"no run below {', '.join(map(str, paths))} has tables: "
                                + "; ".join(f"{r}: {why}" for r, why in found[:3]))  # fmt: skip
    return found, catalog


def _runs_below(root: Path) -> list[Path]:
    """Run directories below ``root``, following symbolic links to directories (each real directory once, so a
    link loop ends) and not looking inside a run (its partials can be many)."""
    out, seen = [], set()
    for here, dirs, _ in os.walk(root, followlinks=True):
        real = os.path.realpath(here)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        if is_run(here) and Path(here) != root:
            out.append(Path(here))
            dirs[:] = []
        dirs.sort()
    return sorted(out)


def _problem(run: Path) -> str | None:
    """Why the tables of ``run`` cannot be queried, or None."""
    try:
        read_record(run)
    except RunDirectoryError as e:
        return " ".join(str(e).split())
    if not Layout(run).table_files():
        return f"no tables yet (expected {Layout(run).tables}/summary.parquet): running, or not finished"
    return None


def _tables(run_dir: Path) -> dict[str, Path]:
    return {p.stem: p for p in Layout(run_dir).table_files()}


def runs_table(runs: list[Path], names: list[str] | None = None, problems: list[str | None] | None = None) -> pd.DataFrame:
    """One row per run: its name (see :func:`run_names`), directory and provenance from its run.json, and
    ``problem``: why its tables are not in the catalog (null when they are)."""
    import pandas as pd

    rows = []
    problems = problems or [None] * len(runs)
    for r, name, problem in zip(runs, names or run_names(runs), problems):
        try:
            doc = read_record(r)
        except RunDirectoryError:
            doc = {}
        spec, env = doc.get("spec", {}), doc.get("environment", {}) or {}
        git = env.get("git") or {}
        rows.append({
            "run": name, "spec_name": spec.get("name"), "run_dir": str(r.resolve()), "kernel": spec.get("kernel"),
            "model": spec.get("model"), "seed": spec.get("seed"), "n_points": len(doc.get("points", [])),
            "realizations": sum(p.get("realizations", 0) or 0 for p in doc.get("points", [])),
            "created": doc.get("created"), "git_revision": git.get("revision"), "git_dirty": git.get("dirty"),
            "host": env.get("host"), "version": (env.get("versions") or {}).get("mbl-ensemble"), "problem": problem,
        })  # fmt: skip
    return pd.DataFrame(rows)


def costs_table(runs: list[Path], names: list[str] | None = None) -> pd.DataFrame:
    """What each run's points cost, from run.json (``costs``, summed over a grown run's sessions): one row per
    point with ``run`` (in a catalog), ``point``, ``key``, its swept values, realizations, CPU seconds (per
    realization too), worker peak bytes and the machine. Not a file in tables/: costs differ between machines
    and sessions, tables may not (they are bit-identical however a run was scheduled)."""
    import pandas as pd

    rows = []
    for r, name in zip(runs, names or [None] * len(runs)):
        try:
            doc = read_record(r)
        except RunDirectoryError:
            continue
        costs = doc.get("costs") or {}
        for p in doc.get("points", []):
            c = costs.get(p.get("key"))
            if not isinstance(c, dict):
                continue
            row = {"run": name} if name is not None else {}
            row.update({"point": p.get("index"), "key": p.get("key"), **(p.get("swept") or {})})
            row.update({k: c.get(k) for k in ("realizations", "cpu_seconds", "seconds_per_realization", "peak_bytes",
                                              "machine")})  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows)


def run_names(runs: list[Path]) -> list[str]:
    """Each run's directory relative to the runs' common parent (``kicks``, ``deep/ipr``): unique and recognizable."""
    full = [Path(os.path.abspath(r)) for r in runs]  # as found (a run linked into a catalog keeps the link's name)
    base = Path(os.path.commonpath(full)) if len(full) > 1 else full[0].parent
    return [p.relative_to(base).as_posix() or p.name for p in full]


def connect(run_dirs, writable: bool | str | Path = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view per table (and ``runs`` for a catalog); see the module docstring."""
    import duckdb

    allowed = _export_directory(writable)
    found, catalog = survey(run_dirs)
    everyone = [r for r, _ in found]
    all_names = dict(zip(everyone, run_names(everyone)))
    runs = [r for r, problem in found if problem is None]
    per_run = [_tables(r) for r in runs]
    names = {r: all_names[r] for r in runs}
    con = duckdb.connect()
    for table in sorted({t for tables in per_run for t in tables}):
        files = [(run, tables[table]) for run, tables in zip(runs, per_run) if table in tables]
        try:
            con.register(table, _dataset(files, names) if catalog else _single(files[0][1]))
        except (duckdb.Error, OSError, ValueError):  # an unreadable table must not hide the others
            continue
    if catalog:
        con.register("runs", runs_table(everyone, [all_names[r] for r in everyone], [p for _, p in found]))
    costs = costs_table(runs, [names[r] for r in runs] if catalog else None)
    if len(costs) and "costs" not in {t for tables in per_run for t in tables}:
        con.register("costs", costs)
    con.execute(f"SET memory_limit = '{_memory_limit()}'")  # a query's result must not take the machine
    # spill files in the system's temporary directory, never in the working directory (which may be a run)
    con.execute(f"SET temp_directory = {_sql(os.path.join(tempfile.gettempdir(), 'ensemble-duckdb'))}")
    if allowed is not None:
        con.execute(f"SET allowed_directories = [{_sql(str(allowed) + os.sep)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _export_directory(writable) -> Path | None:
    """The directory a writable query gets (checked by the write guard), or None for a read-only one."""
    if writable is False or writable is None:
        return None
    from ensemble.store.guard import export_directory

    return export_directory(Path.cwd() if writable is True else writable, "--writable")


def _memory_limit() -> str:
    import psutil

    return f"{max(256, int(0.4 * psutil.virtual_memory().total / 2**20))}MB"


def _single(path: Path):
    import pyarrow.dataset as ds

    return ds.dataset(path, format="parquet")


def _dataset(files: list[tuple[Path, Path]], names: dict):
    """One dataset over a table's files in every run: schemas unified by name (a column a run lacks is null), and
    ``run``, ``run_dir`` as virtual columns from each file's partition expression (filters on them skip files)."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    schema = pa.unify_schemas([pq.read_schema(f) for _, f in files], promote_options="permissive")
    schema = pa.schema([pa.field("run", pa.string()), pa.field("run_dir", pa.string()), *schema])
    parts = [(ds.field("run") == names[run]) & (ds.field("run_dir") == str(run.resolve())) for run, _ in files]
    return ds.FileSystemDataset.from_paths([str(f.resolve()) for _, f in files], schema=schema, format=ds.ParquetFileFormat(),
                                           filesystem=pafs.LocalFileSystem(), partitions=parts)  # fmt: skip


def _sql(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


#: Longest SQL text accepted (a query, not a data file).
MAX_SQL = 1_000_000


def query(run_dirs, sql: str, writable: bool | str | Path = False) -> pd.DataFrame:
    """Run ``sql`` against the tables of one run, several runs, or the runs below a directory.

    ``writable``: a directory (``True``: the working directory) in which DuckDB may read and write files
    (exports: ``COPY ... TO 'DIR/file.csv'``), and nowhere else; it must lie outside every run directory and
    hold none, so no query rewrites a run's files (see the module docstring).
    """
    if not isinstance(sql, str):
        raise UsageError("SQL", sql, 'a query as text, e.g. "SELECT * FROM fits"')
    if len(sql) > MAX_SQL:
        raise UsageError("SQL", f"{len(sql)} characters", f"a query of at most {MAX_SQL} characters")
    if not _has_statement(sql):
        raise UsageError("SQL", sql, 'a query, e.g. "SELECT * FROM fits" (this text holds no statement)')
    import pandas as pd

    with connect(run_dirs, writable) as con:
        result = con.sql(sql)
        return pd.DataFrame() if result is None else result.df()


def _has_statement(sql: str) -> bool:
    import duckdb

    try:
        return bool(duckdb.extract_statements(sql))
    except duckdb.Error:
        return True  # a syntax error: DuckDB's own message says where
