"""A sweep that refines itself, as a spec asks for it: the ``[refine]`` table, validated before anything runs.

    [refine]                  # with [scaling]: run until every crossing of successive sizes is resolved
    err = 0.05                # the goal for each crossing's statistical error AND its interpolation error
    quantity = "crossings"    # or "X_c": the goal is the error of the crossings' drift extrapolated to L -> oo
    form = "inverse"          # with quantity = "X_c": X_c + a/L ("inverse") or X_c + a L^(-1/nu) ("power")
    max_points = 4            # control values the run may add (each at every size), at most
    max_realizations = 4000   # realizations per point, at most
    max_rounds = 12           # rounds of decisions, at most (default 12)

How a run meets it (rounds of whole blocks, every decision a pure function of the spec and of the blocks):
:mod:`ensemble.running.refine`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

from ensemble.errors import SpecError, check_section

__all__ = ["FIELDS", "Refine", "parse_refine"]

#: The keys of [refine], with what they mean (the docs' spec reference is generated from this).
FIELDS = {
    "err": "the goal for every crossing of the [scaling] table: its statistical error (X_cross_err) and its "
           "interpolation error (X_cross_sys) both at most this (required)",
    "max_points": "values of the control parameter the run may add, each at every size and every value of the other "
                  "swept parameters (bisecting the bracket of a crossing); default 4",
    "max_realizations": "realizations per point at most (required); the points of a crossing's bracket grow until "
                        "its statistical error meets the goal",
    "max_rounds": "rounds of decisions at most (default 12); each round computes what the last one asked for",
    "quantity": "what err is the goal of: \"crossings\" (default; every crossing of successive sizes) or \"X_c\" (the "
                "crossings' drift extrapolated to infinite size under `form`: each crossing then has the share of the "
                "goal its weight in X_c allows)",
    "form": "with quantity = \"X_c\": the drift's form, \"inverse\" (X_c + a/L, default; needs 3 sizes) or \"power\" "
            "(X_c + a L^(-1/nu); needs 4 sizes)",
}
#: What a [refine] goal may be on.
QUANTITIES = ("crossings", "X_c")
#: Forms of the drift an X_c goal may use, with the sizes each needs.
FORMS = {"inverse": 3, "power": 4}
KEYS = tuple(FIELDS)


@dataclass(frozen=True)
class Refine:
    """A validated ``[refine]`` table."""

    err: float
    max_points: int
    max_realizations: int
    max_rounds: int = 12
    quantity: str = "crossings"
    form: str = "inverse"

    def to_dict(self) -> dict:
        out = {"err": self.err, "max_points": self.max_points, "max_realizations": self.max_realizations,
               "max_rounds": self.max_rounds}  # fmt: skip
        if self.quantity != "crossings":  # (records of crossing goals stay as they were)
            out.update(quantity=self.quantity, form=self.form)
        return out

    def describe(self) -> str:
        what = (f"the extrapolated X_c ({self.form} drift) to an error <= {self.err:g}" if self.quantity == "X_c" else
                f"every crossing's statistical and interpolation error <= {self.err:g}")  # fmt: skip
        return (f"{what} (at most {self.max_points} added values, {self.max_realizations} realizations per point, "
                f"{self.max_rounds} rounds)")


def _int(table: dict, key: str, default, least: int) -> int:
    v = table.get(key, default)
    if isinstance(v, bool) or not isinstance(v, Integral) or v < least:
        raise SpecError(f"refine.{key}", v, f"an integer >= {least}")
    return int(v)


def parse_refine(table, scaling, sweep: dict, linked: dict, realizations, precision, points) -> Refine | None:
    """Validate ``[refine]`` (SpecError naming the key): it needs a [scaling] whose control parameter is swept in
    [sweep] (values can be added to it), no [precision], and realizations not given per control value."""
    if table is None:
        return None
    example = "err = 0.05, max_points = 4, max_realizations = 4000"
    check_section("refine", table, KEYS, example)
    if scaling is None:
        raise SpecError("refine", table, "a [scaling] section too: the crossings it refines are the scaling table's")
    if precision is not None:
        raise SpecError("refine", table, "no [precision] section with it: [refine] is the goal of its own")
    control = scaling.control
    if control not in sweep:
        raise SpecError("scaling.control", control, f"a parameter of [sweep] (not [sweep.zip]) for [refine] to add "
                        f"values to ({control} is in [sweep.zip])" if control in linked else "a parameter of [sweep]")  # fmt: skip
    if isinstance(realizations, dict) and realizations.get("by") == control:
        raise SpecError("realizations.by", control, f"a parameter other than the control parameter {control} with "
                        "[refine] (an added value would have no count): one count for all, or by size")  # fmt: skip
    err = table.get("err")
    if isinstance(err, bool) or not isinstance(err, Real) or not math.isfinite(err) or err <= 0:
        raise SpecError("refine.err", err, f"a finite number > 0, e.g. {example}")
    cap = table.get("max_realizations")
    if isinstance(cap, bool) or not isinstance(cap, Integral) or cap < 1:
        raise SpecError("refine.max_realizations", cap, f"an integer >= 1: the most realizations a point may take, e.g. {example}")
    start = max(p.realizations for p in points)
    if cap < start:
        raise SpecError("refine.max_realizations", cap, f"at least the realizations points start with ({start})")
    for p in points:
        if cap // p.block_size < 2:
            raise SpecError("refine.max_realizations", cap, f"at least two blocks of {p.block_size} per point (a "
                            "point of one block has no error bar)")  # fmt: skip
    quantity = table.get("quantity", "crossings")
    if quantity not in QUANTITIES:
        raise SpecError("refine.quantity", quantity, " or ".join(f'"{q}"' for q in QUANTITIES))
    form = table.get("form", "inverse")
    if "form" in table and quantity != "X_c":
        raise SpecError("refine.form", form, 'only with quantity = "X_c" (the form of the drift it extrapolates)')
    if form not in FORMS:
        raise SpecError("refine.form", form, " or ".join(f'"{f}"' for f in FORMS))
    if quantity == "X_c":
        sizes = {p.swept.get(scaling.size) for p in points}
        if len(sizes) < FORMS[form]:
            raise SpecError("refine.quantity", quantity, f"at least {FORMS[form]} sizes for the {form} form of the drift "
                            f"(the sweep has {len(sizes)}: {FORMS[form] - 1} crossings are needed to extrapolate)")  # fmt: skip
    return Refine(float(err), _int(table, "max_points", 4, 0), int(cap), _int(table, "max_rounds", 12, 1),
                  str(quantity), str(form))
