"""Helpers shared by the tests: a small spec, running the CLI, comparing tables bit for bit."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd

__all__ = ["SMALL_SPEC", "assert_tables_identical", "read_tables", "run_cli", "small_spec"]

SMALL_SPEC = """
name = "small"
kernel = "anderson_trajectory"
seed = 99
realizations = {realizations}
batch_size = {batch_size}
block_size = {block_size}
[params]
L = {L}
[sweep]
W = [2.0, 6.0]
[times]
start = 0.5
stop = {stop}
num = 12
[fit]
min_start = 2.0
"""


def small_spec(realizations=24, batch_size=8, block_size=4, L=10, stop=40.0) -> str:
    return SMALL_SPEC.format(realizations=realizations, batch_size=batch_size, block_size=block_size, L=L, stop=stop)


def assert_tables_identical(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    """Same tables, same columns, and every float bit-for-bit equal (NaN included); tables without columns
    (a model without fits) count as absent, as in a run directory, which writes no file for them."""
    a = {k: v for k, v in a.items() if len(v.columns)}
    b = {k: v for k, v in b.items() if len(v.columns)}
    assert sorted(a) == sorted(b)
    for name in a:
        x, y = a[name], b[name]
        assert list(x.columns) == list(y.columns), name
        assert len(x) == len(y), name
        for col in x.columns:
            u, v = x[col].to_numpy(), y[col].to_numpy()
            if u.dtype.kind == "f":
                assert np.array_equal(u.view(np.uint64), v.view(np.uint64)), f"{name}.{col} differs"
            else:
                pd.testing.assert_series_equal(x[col], y[col], check_exact=True, obj=f"{name}.{col}")


def read_tables(run_dir) -> dict[str, pd.DataFrame]:
    from ensemble.runs import read_tables as read

    return read(run_dir)


def run_cli(*args, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ensemble", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )
