"""SQL on runs' tables through DuckDB: each table is a view named after it; many runs are queried as one.

One run directory: views ``summary``, ``fits`` (and the model's own tables)
hold that run's tables as they are. Several run directories, or a directory
holding runs (found below it), make a *catalog*: each view is the union of
that table over the runs (columns matched by name; a column a run lacks is
NULL), with ``run`` (the run's directory below the runs' common parent) and
``run_dir`` in front, and a view
``runs`` holds one row per run with its provenance (kernel, model, seed,
points, realizations, creation time, git revision, host).

By default the connection is read-only with respect to files: the tables are
handed to DuckDB as pyarrow datasets (scanned lazily, with projection and
filter pushdown on the files' statistics) and DuckDB's own file access is
switched off and locked, so a query cannot read other files
(``read_csv('/etc/passwd')``) or write any (``COPY ... TO``). ``writable=True``
gives DuckDB its usual access, for exports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd

from .errors import RunDirectoryError, UsageError

__all__ = ["connect", "find_runs", "query", "run_names", "runs_table"]


def find_runs(paths: str | Path | Iterable[str | Path]) -> tuple[list[Path], bool]:
    """Run directories named by ``paths`` (runs, or directories holding runs), and whether this is a catalog.

    A single path that is a run is not a catalog (its tables keep their columns).
    """
    paths = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not paths:
        raise UsageError("DIR", [], "one or more run directories (or directories holding runs)")
    runs: list[Path] = []
    for p in paths:
        if not p.exists():
            raise RunDirectoryError(f"{p} does not exist")
        if (p / "run.json").is_file():
            runs.append(p)
            continue
        found = sorted({m.parent for m in p.rglob("run.json") if (m.parent / "tables").is_dir()}) if p.is_dir() else []
        if not found:
            raise RunDirectoryError(f"{p} is not a run directory (no run.json) and holds no runs with tables")
        runs += found
    catalog = len(paths) > 1 or not (paths[0] / "run.json").is_file()
    return list(dict.fromkeys(runs)), catalog


def _tables(run_dir: Path, catalog: bool) -> dict[str, Path]:
    tables = run_dir / "tables"
    found = {p.stem: p for p in sorted(tables.glob("*.parquet"))} if tables.is_dir() else {}
    if not found and not catalog:
        raise RunDirectoryError(f"{run_dir} has no tables yet (expected {tables}/summary.parquet); finish the run first")
    return found


def runs_table(runs: list[Path], names: list[str] | None = None) -> pd.DataFrame:
    """One row per run: its name (see :func:`run_names`), directory and provenance from its run.json."""
    rows = []
    for r, name in zip(runs, names or run_names(runs)):
        try:
            doc = json.loads((r / "run.json").read_text())
        except (OSError, ValueError):
            doc = {}
        spec, env = doc.get("spec", {}), doc.get("environment", {}) or {}
        git = env.get("git") or {}
        rows.append({
            "run": name, "spec_name": spec.get("name"), "run_dir": str(r.resolve()), "kernel": spec.get("kernel"),
            "model": spec.get("model"), "seed": spec.get("seed"), "n_points": len(doc.get("points", [])),
            "realizations": sum(p.get("realizations", 0) or 0 for p in doc.get("points", [])),
            "created": doc.get("created"), "git_revision": git.get("revision"), "git_dirty": git.get("dirty"),
            "host": env.get("host"), "version": (env.get("versions") or {}).get("mbl-ensemble"),
        })  # fmt: skip
    return pd.DataFrame(rows)


def run_names(runs: list[Path]) -> list[str]:
    """Each run's directory relative to the runs' common parent (``kicks``, ``deep/ipr``): unique and recognizable."""
    import os

    full = [r.resolve() for r in runs]
    base = Path(os.path.commonpath(full)) if len(full) > 1 else full[0].parent
    return [p.relative_to(base).as_posix() or p.name for p in full]


def connect(run_dirs, writable: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view per table (and ``runs`` for a catalog); see the module docstring."""
    runs, catalog = find_runs(run_dirs)
    per_run = [_tables(r, catalog) for r in runs]
    names = dict(zip(runs, run_names(runs)))
    con = duckdb.connect()
    for table in sorted({t for tables in per_run for t in tables}):
        files = [(run, tables[table]) for run, tables in zip(runs, per_run) if table in tables]
        try:
            con.register(table, _dataset(files, names) if catalog else _single(files[0][1]))
        except (duckdb.Error, OSError, ValueError):  # an unreadable table must not hide the others
            continue
    if catalog:
        con.register("runs", runs_table(runs, [names[r] for r in runs]))
    if not writable:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con


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


def query(run_dirs, sql: str, writable: bool = False) -> pd.DataFrame:
    """Run ``sql`` against the tables of one run, several runs, or the runs below a directory."""
    if not _has_statement(sql):
        raise UsageError("SQL", sql, 'a query, e.g. "SELECT * FROM fits" (this text holds no statement)')
    with connect(run_dirs, writable) as con:
        result = con.sql(sql)
        return pd.DataFrame() if result is None else result.df()


def _has_statement(sql: str) -> bool:
    try:
        return bool(duckdb.extract_statements(sql))
    except duckdb.Error:
        return True  # a syntax error: DuckDB's own message says where
