"""What a kernel takes and gives: parameters (default, type, meaning and allowed values), observables and
their axes, sample times, and the [fit] settings of its analysis (``ensemble kernels NAME``, :func:`kernel_info`)."""

from __future__ import annotations

import dataclasses
import inspect
import re
from dataclasses import dataclass

from .models import resolve_kernel

__all__ = ["KernelInfo", "kernel_info", "parameter_docs"]

_ENTRY = re.compile(r"^(\s*)([A-Za-z_][\w]*(?:\s*,\s*[A-Za-z_][\w]*)*)\s*:\s*(.*)$")


def parameter_docs(cls: type) -> dict[str, tuple[str, str]]:
    """name -> (type, description) from the numpydoc-style entries of ``cls`` and its bases' docstrings.

    An entry naming one field wins over one that documents several together.
    """
    out: dict[str, tuple[str, str, int]] = {}
    for klass in cls.__mro__:
        doc = inspect.cleandoc(klass.__dict__.get("__doc__") or "")
        lines = doc.splitlines()
        i = 0
        while i < len(lines):
            m = _ENTRY.match(lines[i])
            if not m:
                i += 1
                continue
            indent, names, typ = len(m.group(1)), [n.strip() for n in m.group(2).split(",")], m.group(3).strip()
            body = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                body.append(lines[i].strip())
                i += 1
            text = " ".join(b for b in body if b)
            for n in names:
                if n not in out or out[n][2] > len(names):
                    out[n] = (typ, text, len(names))
    return {k: (t, d) for k, (t, d, _) in out.items()}


@dataclass(frozen=True)
class KernelInfo:
    """A kernel described for a user; ``str()`` is what ``ensemble kernels NAME`` prints."""

    name: str
    summary: str
    analysis: str
    analysis_description: str
    parameters: list[dict]
    observables: list[dict]
    default_times: dict | None
    time_step: str | None
    fit_settings: list[dict]

    def __str__(self) -> str:
        out = [f"{self.name}: {self.summary}", f"analysis: {self.analysis} ({self.analysis_description})", "", "parameters:"]
        width = max(len(p["name"]) for p in self.parameters)
        for p in self.parameters:
            out.append(f"  {p['name']:<{width}}  = {p['default']!r:<12} {p['type']:<14} {p['doc']}")
        if self.default_times is not None:
            step = f"; multiples of {self.time_step}" if self.time_step else ""
            d = self.default_times
            out += ["", f"sample times: the [times] section; default {d['num']} log-spaced times {d['start']:g}..{d['stop']:g}{step}"]
        out += ["", "observables (axes at the warm-up point; sizes follow the parameters):"]
        for o in self.observables:
            axes = ", ".join(o["axes"]) or "scalar"
            out.append(f"  {o['name']} ({axes}): {o['doc']}")
        if self.fit_settings:
            out += ["", f"[fit] settings of the {self.analysis} analysis:"]
            for f in self.fit_settings:
                out.append(f"  {f['name']} = {f['default']!r}: {f['doc']}")
        return "\n".join(out)


def kernel_info(name: str) -> KernelInfo:
    """Parameters, observables and fit settings of the kernel ``name`` (built-in, or ``module:...``)."""
    kernel, model = resolve_kernel(name)
    docs = parameter_docs(kernel.Params)
    params = []
    for f in dataclasses.fields(kernel.Params):
        if f.name == "times":
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        typ, doc = docs.get(f.name, (type(default).__name__, ""))
        params.append({"name": f.name, "default": default, "type": typ, "doc": doc or "(undocumented)"})
    schema = kernel.schema(kernel.warmup_params())
    observables = [{"name": k, "axes": list(axes), "doc": kernel.observables.get(k, "")} for k, axes in schema.items()]
    fits = [{"name": f.name, "default": f.default, "doc": f.metadata.get("doc", "")} for f in dataclasses.fields(model.Settings)]
    return KernelInfo(kernel.name, kernel.summary, model.name, model.description, params, observables,
                      kernel.default_times, kernel.time_step, fits)  # fmt: skip
