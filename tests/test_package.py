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
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
# pymetis: the METIS nested-dissection ordering behind xxz_bubble's sparse LU (numerics, not a framework)
# tenpy: the MPS/TEBD engine of boson_tebd (paper 001's large chains), a physics library in its own right
KERNEL_ALLOWED = {"numpy", "numba", "scipy", "pymetis", "tenpy", "pypardiso", "threadpoolctl", "kernels"}
STDLIB_OK = set(sys.stdlib_module_names) | {"__future__"}
FRONT = {"ensemble", "ensemble.cli", "ensemble.api", "ensemble.__main__", "ensemble._entry"}
RANK = {"kernels": 0, "engine": 1, "cluster": 2, "front": 3}
#: What cluster/ may use of the engine: its executor protocol and its errors.
CLUSTER_MAY_IMPORT = {"ensemble.running.executors", "ensemble.errors"}


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


#: The engine's own layers, bottom up (docs/develop/layout.md): a module imports its own layer and those below.
#: The model registry (ensemble.models, .base) sits with the spec; the model families use every layer below the
#: running one's front doors (they are the engine's plugins, loaded by name).
ENGINE_LAYERS = ("base", "spec", "analysis", "store", "present", "running", "families")
BASE = {"ensemble.errors", "ensemble.plugins", "ensemble._version"}


def engine_layer(module: str) -> str | None:
    """The engine layer of ``module`` (None outside the engine's layers: kernels, cluster, the front doors)."""
    if layer(module) != "engine":
        return None
    parts = module.split(".")
    if module in BASE:
        return "base"
    if parts[1] == "models":
        return "spec" if len(parts) == 2 or parts[2] == "base" else "families"
    if parts[1] in ENGINE_LAYERS:
        return parts[1]
    return "unplaced"


def engine_problems(me: str, mods: set[str]) -> list[str]:
    """Imports from a lower engine layer up (or of a module no layer holds)."""
    mine = engine_layer(me)
    if mine is None:
        return []
    if mine == "unplaced":
        return [f"{me}: every engine module lives in a layer package ({', '.join(ENGINE_LAYERS[1:-1])}) or is one "
                f"of {', '.join(sorted(BASE))}"]  # fmt: skip
    out = []
    for mod in sorted(mods):
        theirs = engine_layer(mod) if mod.split(".")[0] == "ensemble" and mod != "ensemble" else None
        if theirs is None or theirs == "unplaced":
            continue
        if ENGINE_LAYERS.index(theirs) > ENGINE_LAYERS.index(mine):
            out.append(f"{me} ({mine}) imports {mod} ({theirs}): the engine's layers point down only")
    return out


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
        if mine in ("engine", "front") and top == "cluster":
            out.append(f"{me} imports {mod}: the engine finds executors through their registry, never cluster by name")
        if mine == "cluster" and top == "ensemble" and mod not in CLUSTER_MAY_IMPORT:
            out.append(f"{me} imports {mod}: cluster depends on the engine's executor protocol and errors only")
        theirs = layer(mod)
        if theirs is not None and RANK[theirs] > RANK[mine]:
            out.append(f"{me} ({mine}) imports {mod} ({theirs}): layers point down only")
    return out


def _model_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["ensemble", "models"] and parts[2] != "base" else None


#: What a model may import of kernels/: the protocol and the shared numerics, never a kernel's module (a model
#: reads its kernel through the kernel's Params or the registry).
MODEL_MAY_IMPORT_KERNELS = ("kernels._interface", "kernels._params", "kernels.numerics")


def model_problems(me: str, mods: set[str]) -> list[str]:
    """Imports of a model package from outside it (other than the list in ensemble.models), and of a kernel's
    module from a model."""
    out = [
        f"{me} imports {mod}: only ensemble.models lists the models; models do not import each other"
        for mod in sorted(mods)
        if _model_of(mod) is not None and me != "ensemble.models" and _model_of(me) != _model_of(mod)
    ]
    if me.startswith("ensemble.models"):
        out += [f"{me} imports {mod}: a model finds its kernel through the kernel's Params or the registry "
                f"(ensemble.models.kernel_named), never by importing the kernel's module"  # fmt: skip
                for mod in sorted(mods)
                if mod.split(".")[0] == "kernels" and mod != "kernels" and not mod.startswith(MODEL_MAY_IMPORT_KERNELS)]
    return out


@pytest.mark.parametrize("path", list(our_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_layers(path):
    me, mods = module_name(path), imports(path)
    problems = layer_problems(me, mods) + model_problems(me, mods) + engine_problems(me, mods)
    assert not problems, "; ".join(problems)


def test_layer_checks_catch_forbidden_imports():
    assert layer_problems("ensemble.spec.experiment", {"cluster", "distributed"}) and layer_problems("cluster.jobs", {"ensemble.cli"})
    assert layer_problems("kernels.ipr.rmt_bath", {"pandas"}) and layer_problems("kernels.ipr.rmt_bath", {"ensemble.analysis.tables"})
    assert model_problems("ensemble.analysis.tables", {"ensemble.models.front"})
    assert model_problems("ensemble.models.bubble.analysis", {"ensemble.models.front.thresholds"})
    assert model_problems("ensemble.models.bubble.analysis", {"kernels.bubble.xxz_bubble"})
    assert not model_problems("ensemble.models.bubble.analysis", {"kernels.numerics.levels"})
    assert layer_problems("ensemble.cli", {"cluster"}) and layer_problems("ensemble.api", {"cluster.local"})
    assert layer_problems("cluster.local", {"ensemble.spec.experiment"})
    assert not layer_problems("ensemble.cli", {"ensemble.spec.experiment", "kernels"})
    assert not layer_problems("cluster.jobs", {"ensemble.running.executors", "ensemble.errors"})
    assert not model_problems("ensemble.models", {"ensemble.models.front"})
    assert engine_problems("ensemble.spec.experiment", {"ensemble.analysis.tables"})
    assert engine_problems("ensemble.store.layout", {"ensemble.running.tasks"})
    assert engine_problems("ensemble.models.base", {"ensemble.present.display"})
    assert engine_problems("ensemble.newmodule", set())
    assert not engine_problems("ensemble.running.runner", {"ensemble.store.stores", "ensemble.spec.seeding"})
    assert not engine_problems("ensemble.models.front.figures", {"ensemble.present.display"})


def _engine_graph() -> dict[str, set[str]]:
    names = {module_name(p) for p in (ROOT / "ensemble").rglob("*.py")}
    return {module_name(p): {m for m in imports(p) if m in names and m != module_name(p)}
            for p in (ROOT / "ensemble").rglob("*.py")}  # fmt: skip


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (imports inside functions count: a circle is a
    circle wherever the import sits). A package's __init__ importing its own modules is not a circle."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_engine_has_no_import_circle():
    graph = _engine_graph()
    # the front door (ensemble/__init__) names the API lazily; it is the top, so edges into it are not counted
    graph = {k: {m for m in v if m != "ensemble"} for k, v in graph.items()}
    assert not import_cycles(graph), import_cycles(graph)
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]  # the check can fail


def test_the_engine_top_level_is_small():
    entries = [p.name for p in (ROOT / "ensemble").iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 14, sorted(entries)


def test_importing_the_engine_does_not_import_distributed():
    import subprocess

    code = "import ensemble, ensemble.spec.experiment, ensemble.running.runner, ensemble.analysis.tables, sys; print('distributed' in sys.modules)"
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

    for info in pkgutil.walk_packages(importlib.import_module("kernels").__path__, prefix="kernels."):
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher):
                yield f"{info.name}.{name}", obj


def test_numba_kernels_are_nogil_cached_and_serial():
    found = list(jitted_functions())
    # every kernel source that compiles a loop is found (the walk reaches the family subpackages)
    sources = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "kernels").rglob("*.py")
               if "\n@jit\n" in p.read_text()}
    modules = {name.rsplit(".", 1)[0] for name, _ in found}
    assert len(sources) >= 5 and sources <= modules, (sorted(modules), sorted(sources))
    for name, d in found:
        assert d.targetoptions.get("nogil") is True, f"{name} must be nogil=True"
        assert not d.targetoptions.get("parallel"), f"{name}: no parallel=True inside kernels Dask runs"
        assert type(d._cache).__name__ == "FunctionCache", f"{name} must be cache=True"


# -- the tests themselves: no clock thresholds, no silent optional skips (issue 22) ------------------------------

CLOCKS = {"time", "perf_counter", "monotonic", "process_time", "perf_counter_ns", "monotonic_ns", "time_ns"}


#: Test files allowed to read a clock: helpers.py (the hang guard), and a kernel whose work is CPU time itself
#: (the quantity the cost measurement is checked on, as a ratio).
CLOCK_ALLOWED = {"helpers.py", "cpu_kernel.py"}


def _test_files():
    return [p for p in sorted((ROOT / "tests").rglob("*.py")) if p.name not in CLOCK_ALLOWED]


def _calls(text: str):
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call):
            f = node.func
            yield node, (f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else "")


def clock_problems(path: Path, text: str) -> list[str]:
    """Calls in a test that read a clock, or bound a wait by less than the hang guard: a test that depends on
    timing measures a count or a ratio instead (tests/helpers.py holds the one clock, wait_until's hang guard)."""
    from tests.helpers import HANG_GUARD

    out = []
    for node, name in _calls(text):
        if name in CLOCKS and isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "time" \
                or name in CLOCKS - {"time"} and isinstance(node.func, ast.Name):  # fmt: skip
            out.append(f"{path}:{node.lineno} reads a clock ({name})")
        for kw in node.keywords:
            if kw.arg == "timeout" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, int | float) \
                    and kw.value.value < HANG_GUARD:  # fmt: skip
                out.append(f"{path}:{node.lineno} waits at most {kw.value.value} s, less than the hang guard {HANG_GUARD:g} s")
    return out


def test_no_test_depends_on_the_speed_of_the_machine():
    problems = [p for f in _test_files() for p in clock_problems(f.relative_to(ROOT), f.read_text())]
    assert not problems, "\n".join(problems)


def test_the_clock_check_catches_a_wall_clock_threshold():
    assert clock_problems(Path("t.py"), "t0 = time.perf_counter()\nassert time.time() - t0 < 60\n")
    assert clock_problems(Path("t.py"), "proc.communicate(timeout=120)\n")
    assert not clock_problems(Path("t.py"), "proc.communicate(timeout=HANG_GUARD)\nwait_until(done, 'x', proc)\n")


def _optional_modules() -> set[str]:
    """Import names of the optional dependencies declared in pyproject.toml (every extra)."""
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = set()
    for reqs in doc["project"].get("optional-dependencies", {}).values():
        for r in reqs:
            names.add(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].strip().lower().replace("-", "_"))
    return names


def skip_problems(path: Path, text: str, declared: set[str]) -> list[str]:
    """pytest.importorskip calls without a reason, or of a package that no extra of pyproject.toml declares."""
    out = []
    for node, name in _calls(text):
        if name != "importorskip" or not node.args or not isinstance(node.args[0], ast.Constant):
            continue
        module = str(node.args[0].value)
        if not any(kw.arg == "reason" for kw in node.keywords):
            out.append(f"{path}:{node.lineno}: importorskip({module!r}) without reason=")
        if module.split(".")[0].lower() not in declared:
            out.append(f"{path}:{node.lineno}: {module} is in no extra of pyproject.toml")
    return out


def test_optional_packages_are_declared_and_their_skips_say_why():
    """A test that needs an optional package imports it with pytest.importorskip(NAME, reason=...), and NAME is in an
    extra of pyproject.toml, so that `pip install ".[test]"` (or the named extra) is what makes it run."""
    declared = _optional_modules()
    problems = [p for f in _test_files() for p in skip_problems(f.relative_to(ROOT), f.read_text(), declared)]
    assert not problems, "\n".join(problems)
    assert skip_problems(Path("t.py"), "pytest.importorskip('nosuchpackage')\n", declared)  # the check can fail


# -- the kernel protocol in one place (issue 23) ----------------------------------------------------------------------


def hook_reads(text: str, where: str) -> list[str]:
    """Places in a module's text that read a kernel hook directly: getattr/hasattr by the hook's name, an attribute of
    a kernel's ``.module``, ``.SEED_OMIT_AT``, or ``params.fingerprint_extra()`` (the KernelModule's own
    ``seed_omit_at`` and ``fingerprint_extra(params)`` are the way)."""
    from kernels._interface import OPTIONAL, PARAMS_OPTIONAL, REQUIRED

    hooks = set(OPTIONAL) | set(PARAMS_OPTIONAL) | set(REQUIRED)
    out = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("getattr", "hasattr") and len(node.args) >= 2:
            name = node.args[1]
            if isinstance(name, ast.Constant) and name.value in hooks:
                out.append(f"{where}:{node.lineno} {node.func.id}(..., {name.value!r})")
        if isinstance(node, ast.Attribute) and node.attr in hooks and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "module":  # fmt: skip
            out.append(f"{where}:{node.lineno} .module.{node.attr}")
        if isinstance(node, ast.Attribute) and node.attr == "SEED_OMIT_AT":
            out.append(f"{where}:{node.lineno} .SEED_OMIT_AT")
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "fingerprint_extra" and not node.args:
            out.append(f"{where}:{node.lineno} .fingerprint_extra()")
    return out


def test_no_module_outside_the_interface_reads_a_kernel_hook():
    files = [p for top in ("ensemble", "cluster") for p in sorted((ROOT / top).rglob("*.py"))]
    problems = [p for f in files for p in hook_reads(f.read_text(), str(f.relative_to(ROOT)))]
    assert not problems, "\n".join(problems)


def test_the_hook_check_can_fail():
    bad = ("def f(kernel, params):\n    a = getattr(kernel.module, 'HISTOGRAMS', {})\n"
           "    return a, type(params).SEED_OMIT_AT, kernel.module.UNITS, params.fingerprint_extra()\n")  # fmt: skip
    assert len(hook_reads(bad, "bad.py")) == 4
    assert not hook_reads("def g(kernel, p):\n    return kernel.histograms, kernel.fingerprint_extra(p)\n", "ok.py")


def test_every_data_file_of_the_packages_is_installed():
    """A file the packages read at run time (styles, job defaults, scripts) must be in package-data, or a
    non-editable install (the README's) lacks it; found once for the figure style, so checked for every file."""
    import fnmatch
    import subprocess
    import tomllib

    root = Path(__file__).resolve().parents[1]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    files = subprocess.run(["git", "ls-files", "ensemble", "kernels", "cluster"], cwd=root, capture_output=True,
                           text=True).stdout.split()  # fmt: skip
    if not files:
        pytest.skip("not a git checkout: the package's files cannot be listed")
    missing = []
    for f in files:
        if f.endswith(".py"):
            continue
        parts = f.split("/")
        # the patterns of any package holding the file (setuptools keys packages by their dotted name)
        holders = [(".".join(parts[:i]), "/".join(parts[i:])) for i in range(1, len(parts))]
        if not any(fnmatch.fnmatch(rel, pattern) for package, rel in holders for pattern in data.get(package, [])):
            missing.append(f)
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def test_the_layout_page_names_every_package():
    """docs/develop/layout.md draws the house: every kernels family and engine package is on it, and nothing it
    names as a package is missing (a move that forgets the page fails here)."""
    page = (ROOT / "docs" / "develop" / "layout.md").read_text()
    packages = [p.parent for p in (ROOT / "kernels").glob("*/__init__.py")] + \
        [p.parent for p in (ROOT / "ensemble").glob("*/__init__.py")]  # fmt: skip
    missing = [p.name for p in packages if f"{p.name}/" not in page]
    assert not missing, f"packages not on docs/develop/layout.md: {missing}"
    named = set(re.findall(r"^  (\w+)/ ", page, flags=re.M))
    gone = [n for n in named if not (ROOT / "kernels" / n).is_dir() and not (ROOT / "ensemble" / n).is_dir()]
    assert not gone, f"docs/develop/layout.md names packages that do not exist: {gone}"
