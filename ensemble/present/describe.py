"""What a kernel takes and gives: parameters (default, type, meaning and allowed values), observables and
their axes, sample times, and the [fit] settings of its analysis (``ensemble kernels NAME``, :func:`kernel_info`)."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass

from kernels._interface import parameter_docs

from ensemble.models import kernel_plugin, resolve_kernel

__all__ = ["KernelInfo", "kernel_info", "parameter_docs"]

#: What ``ensemble kernels NAME`` prints for a parameter its kernel does not describe (the conformance test
#: keeps registered kernels from having one).
NO_DOC = "(no description: add one to the Params docstring or the field's metadata)"

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
    source: str = ""
    cost: str = ""
    #: the kernel module's own description: its Hamiltonian, boundary conditions, conventions (spin or Pauli
    #: operators, the disorder's distribution), the method and the outputs (reStructuredText, math in
    #: ``.. math::`` blocks)
    physics: str = ""
    #: how this kernel's disorder profile is written (its ``profile`` parameter, sites numbered as its site
    #: axis), or "" for a kernel without one
    profile: str = ""

    def __str__(self) -> str:
        out = [f"{self.name}: {self.summary}", f"from: {self.source}", f"analysis: {self.analysis} ({self.analysis_description})",
               f"cost: {self.cost}", "", "parameters:"]  # fmt: skip
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
        if self.profile:
            out += ["", "disorder profile:", "  " + self.profile]
        if self.physics:
            out += ["", "model (the kernel's own description):", *("  " + ln if ln else "" for ln in self.physics.splitlines())]
        return "\n".join(out)


    def __repr__(self) -> str:
        from ensemble.present.html import head_and_rows

        return head_and_rows(str(self).splitlines())

    def _repr_html_(self) -> str:
        from ensemble.present.html import table

        import html

        params = table(["parameter", "default", "type", "meaning"],
                       [[p["name"], repr(p["default"]), p["type"], p["doc"]] for p in self.parameters])  # fmt: skip
        obs = table(["observable", "axes", "meaning"], [[o["name"], ", ".join(o["axes"]) or "scalar", o["doc"]]
                                                         for o in self.observables])  # fmt: skip
        return (f"<p><b>{html.escape(self.name)}</b>: {html.escape(self.summary)}<br>from {html.escape(self.source)}; "
                f"analysis {html.escape(self.analysis)}; cost {html.escape(self.cost)}</p>{params}{obs}")


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
        params.append({"name": f.name, "default": default, "type": typ or type(default).__name__, "doc": doc or NO_DOC})
    schema = kernel.schema(kernel.warmup_params())
    observables = [{"name": k, "axes": list(axes), "doc": kernel.observables.get(k, ""), "units": kernel.units.get(k, "")}
                   for k, axes in schema.items()]  # fmt: skip
    fits = [{"name": f.name, "default": f.default, "doc": f.metadata.get("doc", "")} for f in dataclasses.fields(model.Settings)]
    plugin = kernel_plugin(name)
    source = plugin.source + ("" if plugin.builtin else f" (plugin: {plugin.value})") if plugin else f"module {kernel.path}"
    cost = ("its cost model (CPU seconds, calibrated)" if kernel.declares_cost
            else "measured at validate and run time (no cost model)")  # fmt: skip
    physics = inspect.getdoc(kernel.module) or ""
    return KernelInfo(kernel.name, kernel.summary, model.name, model.description, params, observables,
                      kernel.default_times, kernel.time_step, fits, source, cost, physics,
                      _profile_text(kernel, schema) if "profile" in kernel.param_names else "")  # fmt: skip


def _profile_text(kernel, schema) -> str:
    """The profile's grammar with this kernel's site numbering (the first coordinate of its site axis)."""
    from kernels._profile import GRAMMAR

    firsts = [int(axes["site"][0]) for axes in schema.values() if "site" in axes and len(axes["site"])]
    where = f"sites numbered from {firsts[0]} as on the site axis" if firsts else "sites numbered from 1"
    return (f"The `profile` parameter gives per-site disorder widths ({where}; width w: fields uniform in [-w, w]): "
            f"{GRAMMAR}. Sites it does not name keep the bulk width and the fields they had without it, on the "
            "same seed (a paired comparison); the uniform profile \"\" draws exactly what runs drew before profiles "
            "existed. The profile is part of the point (its key and fingerprint); its canonical text is what the "
            "tables hold.")
