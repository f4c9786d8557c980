"""Package structure: the import direction between layers, and every public name exists.

Layers, from the bottom: ``kernels`` (numpy, numba, scipy), the engine (``ensemble.*``),
``cluster`` (deployment), and the front (``ensemble.cli``, ``ensemble.api``, the package facade
``ensemble/__init__`` and ``__main__``). A module may import its own layer and the layers below;
the engine's shared code reaches a model only through the list in ``ensemble.models``, and models do
not import each other.
"""

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
KERNEL_ALLOWED = {"numpy", "numba", "scipy", "pymetis", "tenpy", "pypardiso", "threadpoolctl", "kernels"}
STDLIB_OK = set(sys.stdlib_module_names) | {"__future__"}
FRONT = {"ensemble", "ensemble.cli", "ensemble.api", "ensemble.__main__"}
RANK = {"kernels": 0, "engine": 1, "cluster": 2, "front": 3}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> str | None:
    top = module.split(".")[0]
    if top == "kernels":
        return "kernels"
    if top == "cluster":
        return "cluster"
    if top == "ensemble":
        return "front" if module in FRONT else "engine"
    return None


def imports(path: Path) -> set[str]:
    """Absolute names of every module imported anywhere in the file (inside functions too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base)
                mod = f"{prefix}.{node.module}" if node.module else prefix
            else:
                mod = node.module
            out.add(mod)
            # "from pkg import sub" imports a submodule when sub is one
            out |= {f"{mod}.{a.name}" for a in node.names if (ROOT / Path(*f"{mod}.{a.name}".split("."))).exists()
                    or (ROOT / Path(*f"{mod}.{a.name}".split("."))).with_suffix(".py").exists()}  # fmt: skip
    return out


def our_files():
    for top in ("kernels", "ensemble", "cluster"):
        yield from sorted((ROOT / top).rglob("*.py"))


def layer_problems(me: str, mods: set[str]) -> list[str]:
    """What breaks the layer rule when module ``me`` imports ``mods``."""
    mine, out = layer(me), []
    for mod in sorted(mods):
        top = mod.split(".")[0]
        if mine == "kernels":
            if top not in KERNEL_ALLOWED | STDLIB_OK:
                out.append(f"{me} imports {mod}: kernels/ may use numpy, numba, scipy (and pymetis, tenpy, pypardiso, threadpoolctl)")
            continue
        if mine == "engine" and top in ("distributed", "dask_jobqueue"):
            out.append(f"{me} imports {mod}: the engine runs without distributed")
        theirs = layer(mod)
        if theirs is not None and RANK[theirs] > RANK[mine]:
            out.append(f"{me} ({mine}) imports {mod} ({theirs}): layers point down only")
    return out


def _model_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["ensemble", "models"] and parts[2] != "base" else None


def model_problems(me: str, mods: set[str]) -> list[str]:
    """Imports of a model package from outside it (other than the list in ensemble.models)."""
    return [
        f"{me} imports {mod}: only ensemble.models lists the models; models do not import each other"
        for mod in sorted(mods)
        if _model_of(mod) is not None and me != "ensemble.models" and _model_of(me) != _model_of(mod)
    ]


@pytest.mark.parametrize("path", list(our_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_layers(path):
    problems = layer_problems(module_name(path), imports(path)) + model_problems(module_name(path), imports(path))
    assert not problems, "; ".join(problems)


def test_layer_checks_catch_forbidden_imports():
    assert layer_problems("ensemble.spec", {"cluster", "distributed"}) and layer_problems("cluster.jobs", {"ensemble.cli"})
    assert layer_problems("kernels.rmt_bath", {"pandas"}) and layer_problems("kernels.rmt_bath", {"ensemble.tables"})
    assert model_problems("ensemble.tables", {"ensemble.models.front"})
    assert model_problems("ensemble.models.bubble.analysis", {"ensemble.models.front.thresholds"})
    assert not layer_problems("ensemble.cli", {"cluster", "ensemble.spec", "kernels"})
    assert not model_problems("ensemble.models", {"ensemble.models.front"})


def test_importing_the_engine_does_not_import_distributed():
    import subprocess

    code = "import ensemble, ensemble.spec, ensemble.runner, ensemble.tables, sys; print('distributed' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


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
