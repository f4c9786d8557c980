"""Helpers shared by the tests: a small spec, running the CLI, comparing tables bit for bit."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["HANG_GUARD", "SMALL_SPEC", "assert_tables_identical", "partials", "read_tables", "run_cli", "small_spec", "wait_until"]

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
    from ensemble.store.runs import read_tables as read

    return read(run_dir)


def run_cli(*args, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ensemble", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


#: Seconds after which a wait counts as hung. Only a stuck process reaches it: tests decide how far a run gets
#: by counting (tests/ensemble/gated_kernel.py), never by how fast the machine is.
HANG_GUARD = 600.0


def wait_until(done, what: str, proc: subprocess.Popen | None = None) -> None:
    """Poll ``done()`` until it is true; fail if ``proc`` ends first, or if nothing happens for HANG_GUARD seconds."""
    start = time.monotonic()
    while not done():
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the process ended (rc {proc.returncode}) before {what}: {str(err)[-2000:]}")
        if time.monotonic() - start > HANG_GUARD:
            raise AssertionError(f"hung: {what} did not happen within {HANG_GUARD:g} s")
        time.sleep(0.02)


def partials(run_dir) -> list[Path]:
    """The partial files of a run directory."""
    return sorted(Path(run_dir).glob("partials/*/*.npz"))
