"""A finite-size scaling analysis as a spec asks for it: the ``[scaling]`` table, validated before anything runs.

    [scaling]
    observable = "r"          # a summary observable of the kernel (or one its analysis derives)
    where = { }               # coordinates of its axes, if it has any (e.g. { t = 1000.0 })
    size = "L"                # the swept parameter that is the system size
    control = "W"             # the swept parameter the transition is in
    forms = ["inverse", "power", "linear"]   # how the crossings' drift is extrapolated (default: all)
    collapse = true           # y(X, L) = f((X - X_c) L^(1/nu)), X_c and nu fitted
    bootstrap = 200           # resamples of the point means for the errors

The analysis itself (crossings, their drift, the collapse) is :mod:`ensemble.analysis.scaling`; it reads only
the summary table, so it works for any kernel, built-in or plugin, and a refit recomputes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

from ensemble.errors import SpecError, check_section, did_you_mean

__all__ = ["FIELDS", "FORMS", "Scaling", "parse_scaling"]

#: The forms of the crossings' drift X_x(L) the analysis fits, and what each says.
FORMS = {
    "inverse": "X_x(L) = X_c + a / L",
    "power": "X_x(L) = X_c + a L^(-1/nu)",
    "linear": "X_x(L) = b + c L (no finite limit: the crossing drifts without bound)",
}

#: The keys of [scaling], with what they mean (the docs' spec reference is generated from this).
FIELDS = {
    "observable": "a summary observable (the kernel's, or one its analysis derives), scalar at each point or at "
                  "the coordinates of `where` (required)",
    "where": "coordinates of the observable's axes, e.g. { t = 1000.0 } (every axis it has)",
    "size": "the swept parameter that is the system size, e.g. \"L\" (required; at least 2 values)",
    "control": "the swept parameter the transition is driven by, e.g. \"W\" (required; at least 3 values)",
    "forms": f"the forms of the crossings' drift to fit: any of {', '.join(FORMS)} (default: all)",
    "collapse": "fit a scaling collapse y = f((X - X_c) L^(1/nu)) (default true)",
    "bootstrap": "resamples of the point means (each within its standard error) for the errors of the "
                 "crossings and of the collapse (default 200, at least 20)",
    "nu_range": "the range nu may take in the power form and the collapse (default [0.2, 10.0])",
}
KEYS = tuple(FIELDS)


@dataclass(frozen=True)
class Scaling:
    """A validated ``[scaling]`` table."""

    observable: str
    where: tuple[tuple[str, float | int | str], ...]
    size: str
    control: str
    forms: tuple[str, ...] = tuple(FORMS)
    collapse: bool = True
    bootstrap: int = 200
    nu_range: tuple[float, float] = (0.2, 10.0)

    def to_dict(self) -> dict:
        return {"observable": self.observable, "where": dict(self.where), "size": self.size, "control": self.control,
                "forms": list(self.forms), "collapse": self.collapse, "bootstrap": self.bootstrap,
                "nu_range": list(self.nu_range)}  # fmt: skip


def parse_scaling(table, kernel, model, points, swept: dict) -> Scaling | None:
    """Validate ``[scaling]`` against the kernel's observables and the sweep (SpecError naming the key)."""
    from ensemble.spec.goals import observable_at

    if table is None:
        return None
    example = 'observable = "r", size = "L", control = "W"'
    check_section("scaling", table, KEYS, example)
    for k in ("observable", "size", "control"):
        if not isinstance(table.get(k), str):
            raise SpecError(f"scaling.{k}", table.get(k), f"a name, e.g. {example}")
    name, where = observable_at("scaling", table, kernel, model, points[0].params)
    size, control = table["size"], table["control"]
    for key, param, least in (("size", size, 2), ("control", control, 3)):
        if param not in swept:
            raise SpecError(f"scaling.{key}", param, f"{did_you_mean(param, list(swept))}a swept parameter "
                            f"({', '.join(swept) or 'the spec sweeps none'})")  # fmt: skip
        values = set(swept[param])
        if not all(isinstance(v, Real) and not isinstance(v, bool) for v in values):
            raise SpecError(f"scaling.{key}", param, "a numeric parameter")
        if len(values) < least:
            raise SpecError(f"scaling.{key}", param, f"a parameter swept over at least {least} values "
                            f"({param} has {len(values)})")  # fmt: skip
    if size == control:
        raise SpecError("scaling.control", control, "a parameter other than the size")
    if any(v <= 0 for v in swept[size]):
        raise SpecError("scaling.size", size, "a parameter whose values are all > 0 (a system size)")
    forms = table.get("forms", list(FORMS))
    if not isinstance(forms, list) or not forms or any(f not in FORMS for f in forms):
        raise SpecError("scaling.forms", forms, f"a non-empty list of {', '.join(FORMS)}")
    collapse = table.get("collapse", True)
    if not isinstance(collapse, bool):
        raise SpecError("scaling.collapse", collapse, "true or false")
    boot = table.get("bootstrap", 200)
    if isinstance(boot, bool) or not isinstance(boot, Integral) or not 20 <= boot <= 100_000:
        raise SpecError("scaling.bootstrap", boot, "an integer in 20..100000")
    nu = table.get("nu_range", [0.2, 10.0])
    if (not isinstance(nu, list) or len(nu) != 2 or not all(isinstance(v, Real) and not isinstance(v, bool) for v in nu)
            or not 0 < nu[0] < nu[1] < 1e3):  # fmt: skip
        raise SpecError("scaling.nu_range", nu, "[low, high] with 0 < low < high < 1000")
    return Scaling(name, where, size, control, tuple(dict.fromkeys(forms)), collapse,
                   int(boot), (float(nu[0]), float(nu[1])))  # fmt: skip
