"""SQL on a run's tables through DuckDB: each table is a view named after it.

By default the connection is read-only with respect to files: the tables are
handed to DuckDB as pyarrow datasets (scanned lazily, with projection and
filter pushdown) and DuckDB's own file access is switched off and locked, so
a query cannot read other files (``read_csv('/etc/passwd')``) or write any
(``COPY ... TO``). ``writable=True`` gives DuckDB its usual access, for
exports, and reads the tables by path.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from .errors import RunDirectoryError, UsageError

__all__ = ["connect", "query"]


def _tables(run_dir: Path) -> dict[str, Path]:
    if not run_dir.exists():
        raise RunDirectoryError(f"{run_dir} does not exist")
    tables = run_dir / "tables"
    found = {p.stem: p for p in sorted(tables.glob("*.parquet"))} if tables.is_dir() else {}
    if not found:
        what = "is not a run directory (no run.json)" if not (run_dir / "run.json").exists() else "has no tables yet"
        raise RunDirectoryError(f"{run_dir} {what} (expected {tables}/summary.parquet); finish the run first")
    return found


def connect(run_dir: str | Path, writable: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view per table of the run (``summary``, ``fits``, ...)."""
    import pyarrow.dataset as ds

    found = _tables(Path(run_dir))
    con = duckdb.connect()
    for name, path in found.items():
        try:
            if writable:
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{str(path).replace(chr(39), chr(39) * 2)}')")
            else:
                con.register(name, ds.dataset(path, format="parquet"))
        except (duckdb.Error, OSError, ValueError):  # an unreadable table must not hide the others
            continue
    if not writable:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con


def query(run_dir: str | Path, sql: str, writable: bool = False) -> pd.DataFrame:
    """Run ``sql`` against the run's tables and return the result as a DataFrame."""
    if not _has_statement(sql):
        raise UsageError("SQL", sql, 'a query, e.g. "SELECT * FROM fits" (this text holds no statement)')
    with connect(run_dir, writable) as con:
        result = con.sql(sql)
        return pd.DataFrame() if result is None else result.df()


def _has_statement(sql: str) -> bool:
    try:
        return bool(duckdb.extract_statements(sql))
    except duckdb.Error:
        return True  # a syntax error: DuckDB's own message says where
