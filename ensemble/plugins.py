"""Plugins: kernels, analysis models and executor backends, found through entry points (as xarray finds its
backends) and listed with where they come from.

Three groups, each ``name = "module"`` (or ``"module:object"`` for executors) in a package's
``pyproject.toml``::

    [project.entry-points."mbl_ensemble.kernels"]
    my_chain = "mypkg.kernel"            # a module following kernels/_interface.py
    [project.entry-points."mbl_ensemble.models"]
    my_analysis = "mypkg.analysis"       # a module defining MODEL, an ensemble.models.Model
    [project.entry-points."mbl_ensemble.executors"]
    my_cluster = "mypkg.cluster:BACKEND" # an object following ensemble.running.executors.Backend

The built-in ones are registered the same way in this project's own ``pyproject.toml``: there is one list.
A checkout run without being installed (no package metadata) reads that file instead.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

__all__ = ["DIST", "GROUPS", "Plugin", "conflicts", "entry_points", "registered"]

DIST = "mbl-ensemble"
GROUPS = {"kernels": "mbl_ensemble.kernels", "models": "mbl_ensemble.models", "executors": "mbl_ensemble.executors"}


@dataclass(frozen=True)
class Plugin:
    """One registered entry: its name, what it points to, and the package (with version) that registers it."""

    name: str
    value: str
    group: str
    package: str
    version: str | None

    @property
    def builtin(self) -> bool:
        return self.package == DIST

    def load(self):
        module, _, attr = self.value.partition(":")
        obj = importlib.import_module(module)
        for part in attr.split(".") if attr else []:
            obj = getattr(obj, part)
        return obj

    @property
    def source(self) -> str:
        """``mbl-ensemble 0.2.0`` (built in) or the plugin's package and version."""
        return f"{self.package} {self.version}" if self.version else self.package


@lru_cache(maxsize=None)
def registered(group: str) -> dict[str, Plugin]:
    """Every entry of ``group`` by name; this package's own first, so no plugin can replace a built-in."""
    found: dict[str, Plugin] = {}
    mine = [p for p in _installed(group) if p.builtin] or _from_pyproject(group)
    for p in mine + [p for p in _installed(group) if not p.builtin]:
        found.setdefault(p.name, p)
    return found


@lru_cache(maxsize=None)
def conflicts(group: str) -> dict[str, list[Plugin]]:
    """Names of ``group`` that more than one package (or module) registers: name -> every registration, this
    package's own first (:func:`registered` keeps the first; a spec naming such a kernel is refused as ambiguous)."""
    mine = [p for p in _installed(group) if p.builtin] or _from_pyproject(group)
    every: dict[str, list[Plugin]] = {}
    for p in mine + [p for p in _installed(group) if not p.builtin]:
        same = every.setdefault(p.name, [])
        if not any((q.package, q.value) == (p.package, p.value) for q in same):
            same.append(p)
    return {name: ps for name, ps in every.items() if len(ps) > 1}


def entry_points(group: str) -> dict[str, object]:
    """The loaded objects of ``group`` by name."""
    return {name: p.load() for name, p in registered(group).items()}


@lru_cache(maxsize=None)
def _installed(group: str) -> list[Plugin]:
    out, seen = [], {}
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        if dist is None:
            name, version = "unknown", None
        else:  # a distribution's METADATA parsed once, not once per entry point and field
            key = str(getattr(dist, "_path", id(dist)))
            if key not in seen:
                meta = dist.metadata
                seen[key] = (meta["Name"], meta["Version"])
            name, version = seen[key]
        out.append(Plugin(ep.name, ep.value, group, name, version))
    return out


def _from_pyproject(group: str) -> list[Plugin]:
    """This project's own entries from its pyproject.toml (a checkout that is not installed)."""
    path = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if not path.is_file():
        return []
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    doc = tomllib.loads(path.read_text())
    table = doc.get("project", {}).get("entry-points", {}).get(group, {})
    version = doc.get("project", {}).get("version")
    return [Plugin(name, value, group, DIST, version) for name, value in table.items()]
