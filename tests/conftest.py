from __future__ import annotations

import pytest

from kernels._cache import ensure_fresh

ensure_fresh()  # before any kernel is compiled or loaded in this session

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
