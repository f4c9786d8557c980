"""SQL on a run's tables through DuckDB: each table is a view named after it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from .errors import RunDirectoryError

__all__ = ["connect", "query"]


def connect(run_dir: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view per table of the run (``summary``, ``fits``, ...)."""
    tables = Path(run_dir) / "tables"
    found = sorted(p.stem for p in tables.glob("*.parquet")) if tables.is_dir() else []
    if not found:
        raise RunDirectoryError(f"{run_dir} has no tables yet (expected {tables}/summary.parquet); finish the run first")
    con = duckdb.connect()
    for name in found:
        path = str(tables / f"{name}.parquet").replace("'", "''")
        try:
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
        except duckdb.Error:  # an unreadable or column-less table must not hide the others
            continue
    return con


def query(run_dir: str | Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` against the run's tables and return the result as a DataFrame."""
    with connect(run_dir) as con:
        return con.sql(sql).df()
