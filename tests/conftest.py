from __future__ import annotations

import os
import tempfile

import pytest

from kernels._cache import ensure_fresh

ensure_fresh()  # before any kernel is compiled or loaded in this session

#: The machine's cost ledger (ensemble/running/ledger.py) of this session, not the user's: what the suite's runs
#: record must not change what `ensemble validate` says outside it (subprocesses inherit the variable).
os.environ["MBL_ENSEMBLE_COSTS"] = os.path.join(tempfile.mkdtemp(prefix="ensemble-tests-"), "costs.jsonl")

#: tests/fixtures holds runs and recorded tables the tests copy or compare with: not ours to collect
collect_ignore = ["fixtures"]

@pytest.fixture(scope="session")
def local_executor():
    """A real 2-worker local Dask cluster (processes), shared by the tests that need one."""
    from ensemble import make_executor

    with make_executor("local", workers=2) as ex:
        yield ex


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every pyplot figure a test leaves open: matplotlib warns past 20 open figures, and the suite turns
    warnings into errors, so one test's leftovers would fail another (seen: the ipr figure test after the
    papers' readings tests)."""
    yield
    import sys

    plt = sys.modules.get("matplotlib.pyplot")  # only when a test used pyplot: no import for the others
    if plt is not None:
        plt.close("all")
