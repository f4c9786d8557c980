"""Package structure: the layer rule for kernels/, and every public name exists."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# pymetis: the METIS nested-dissection ordering behind xxz_bubble's sparse LU (numerics, not a framework)
# tenpy: the MPS/TEBD engine of boson_tebd (paper 001's large chains), a physics library in its own right
KERNEL_ALLOWED = {"numpy", "numba", "scipy", "pymetis", "tenpy", "kernels"}
STDLIB_OK = set(sys.stdlib_module_names) | {"__future__"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted((ROOT / "kernels").glob("*.py")), ids=lambda p: p.name)
def test_kernels_import_only_numpy_numba_scipy(path):
    bad = imported_roots(path) - KERNEL_ALLOWED - STDLIB_OK
    assert not bad, f"{path.name} imports {bad}: kernels/ may use numpy, numba, scipy (and pymetis, tenpy) only"


def test_layer_check_catches_a_forbidden_import(tmp_path):
    p = tmp_path / "k.py"
    p.write_text("import numpy as np\nfrom dask import delayed\nimport pandas\n")
    assert imported_roots(p) - KERNEL_ALLOWED - STDLIB_OK == {"dask", "pandas"}


def all_modules():
    for pkg in ("ensemble", "kernels", "cluster"):
        mod = importlib.import_module(pkg)
        yield mod
        for info in pkgutil.walk_packages(mod.__path__, prefix=f"{pkg}."):
            if not info.name.endswith("__main__"):
                yield importlib.import_module(info.name)


@pytest.mark.parametrize("module", list(all_modules()), ids=lambda m: m.__name__)
def test_every_name_in_all_exists(module):
    for name in getattr(module, "__all__", []):
        assert hasattr(module, name), f"{module.__name__}.__all__ lists missing {name!r}"


def test_kernel_modules_provide_the_kernel_interface():
    from ensemble.registry import KERNELS

    for entry in KERNELS.values():
        mod = entry.load()
        for attr in ("Params", "sample", "realize", "schema", "warmup_params", "DEFAULT_TIMES", "NAME"):
            assert hasattr(mod, attr), f"{entry.module} lacks {attr}"
        assert mod.NAME == entry.name


def jitted_functions():
    from numba.core.registry import CPUDispatcher

    for info in pkgutil.iter_modules(importlib.import_module("kernels").__path__, prefix="kernels."):
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher):
                yield f"{info.name}.{name}", obj


def test_numba_kernels_are_nogil_cached_and_serial():
    found = list(jitted_functions())
    assert len(found) >= 4
    for name, d in found:
        assert d.targetoptions.get("nogil") is True, f"{name} must be nogil=True"
        assert not d.targetoptions.get("parallel"), f"{name}: no parallel=True inside kernels Dask runs"
        assert type(d._cache).__name__ == "FunctionCache", f"{name} must be cache=True"


def test_kernel_parameters_do_not_shadow_table_columns():
    from ensemble.registry import KERNELS

    reserved = {"observable", "n", "mean", "sem", "estimator", "fit", "blocks", "t", "site", "op", "omega"}
    for entry in KERNELS.values():
        clash = set(entry.param_names()) & reserved
        assert not clash, f"{entry.name}: parameters {clash} would overwrite table columns"
