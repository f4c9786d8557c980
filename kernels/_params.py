"""Validation helpers shared by the kernel parameter dataclasses.

Every check raises :class:`ParameterError`, which names the field, the value
it got and what is allowed, so that the engine can report it against the
spec entry the value came from.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

__all__ = [
    "MAX_MAGNITUDE",
    "ParameterError",
    "check_choice",
    "check_even",
    "check_int",
    "check_nonnegative",
    "check_positive",
    "check_real",
    "check_times",
]


class ParameterError(ValueError):
    """A kernel parameter outside its allowed range.

    Parameters
    ----------
    field : str
        Name of the parameter (``"L"``, ``"tau"``, ...).
    value : object
        The offending value, as given.
    allowed : str
        What would be accepted, phrased so that it can follow "allowed: ".
    """

    def __init__(self, field: str, value: object, allowed: str):
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field} = {value!r} is not allowed; allowed: {allowed}")

    def __reduce__(self):  # survives pickling (a worker or a multiprocessing pool hands it back)
        return type(self), (self.field, self.value, self.allowed)


def check_int(field: str, value: object, minimum: int) -> int:
    """Return ``value`` as an int >= ``minimum`` (bools and floats are rejected)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ParameterError(field, value, f"an integer >= {minimum}, e.g. {field} = {max(minimum, 8)}")
    if value < minimum:
        raise ParameterError(field, value, f"an integer >= {minimum}")
    return int(value)


def check_choice(field: str, value: object, choices, allowed: str | None = None):
    """Return ``value`` if it is one of ``choices`` (of the same type: ``True`` is not 1, ``4.0`` is not 4).

    Works for unhashable input (a list given where a string belongs) and names
    the choices in the error unless ``allowed`` phrases them.
    """
    choices = tuple(choices)
    for c in choices:
        if isinstance(c, str):
            same_kind = isinstance(value, str)
        elif isinstance(c, Integral) and not isinstance(c, bool):
            same_kind = isinstance(value, Integral) and not isinstance(value, bool)
        else:
            same_kind = type(value) is type(c)
        if same_kind and value == c:
            return c
    if allowed is None:
        allowed = "one of " + ", ".join(f'"{c}"' if isinstance(c, str) else repr(c) for c in choices)
    raise ParameterError(field, value, allowed)


def check_even(field: str, value: int, why: str) -> int:
    """Return ``value`` if it is even, else raise naming ``why`` it must be."""
    if value % 2:
        raise ParameterError(field, value, f"an even integer ({why}), e.g. {field} = {value + 1}")
    return value


#: Largest magnitude of a real parameter: energies and couplings are in units of J, and beyond this
#: the numerics overflow (squares, spectral bounds, random draws) long before any physics changes.
MAX_MAGNITUDE = 1e9


def check_real(field: str, value: object) -> float:
    """Return ``value`` as a finite float with |value| <= MAX_MAGNITUDE; -0.0 becomes 0.0.

    (A negative zero would otherwise be a parameter value distinct from 0.0 in
    seeding keys and tables while being the same physics.)
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ParameterError(field, value, "a finite real number")
    x = float(value) + 0.0  # -0.0 + 0.0 == +0.0
    if abs(x) > MAX_MAGNITUDE:
        raise ParameterError(field, value, f"a real number with |{field}| <= {MAX_MAGNITUDE:g} (larger values overflow the numerics)")
    return x


def check_nonnegative(field: str, value: object) -> float:
    """Return ``value`` as a float >= 0."""
    x = check_real(field, value)
    if x < 0:
        raise ParameterError(field, value, "a real number >= 0")
    return x


def check_positive(field: str, value: object) -> float:
    """Return ``value`` as a float > 0."""
    x = check_real(field, value)
    if x <= 0:
        raise ParameterError(field, value, "a real number > 0")
    return x


def check_times(times: object, tau: float | None) -> tuple[float, ...]:
    """Validate sample times: non-empty, finite, > 0, strictly increasing, on the tau grid.

    Parameters
    ----------
    times : sequence of float
        Sample times.
    tau : float or None
        Trotter step; when given every time must be an integer multiple of it
        (to a relative tolerance of 1e-9). The times are returned as given;
        kernels take the step count as ``rint(t / tau)``.

    Returns
    -------
    tuple of float
    """
    try:
        t = np.asarray(times, dtype=float).ravel() if np.size(times) else np.empty(0)
    except (TypeError, ValueError):
        raise ParameterError("times", times, "a list of sample times > 0, e.g. [1.0, 10.0, 100.0]") from None
    if isinstance(times, str | bytes | dict | bool) or np.asarray(times, dtype=object).dtype.kind not in "Oifu":
        raise ParameterError("times", times, "a list of sample times > 0, e.g. [1.0, 10.0, 100.0]")
    if t.size == 0:
        raise ParameterError("times", list(t), "a non-empty list of sample times > 0")
    if not np.all(np.isfinite(t)) or t[0] <= 0 or t.max() > MAX_MAGNITUDE:
        raise ParameterError("times", _short(t), f"finite sample times > 0 and <= {MAX_MAGNITUDE:g}")
    bad = np.flatnonzero(np.diff(t) <= 0)
    if bad.size:
        i = int(bad[0])
        raise ParameterError(
            "times", _short(t), f"strictly increasing times (t[{i}] = {t[i]:g} >= t[{i + 1}] = {t[i + 1]:g})"
        )
    if tau is None:
        return tuple(float(x) for x in t)
    steps = np.rint(t / tau)
    if steps[0] < 1:
        raise ParameterError("times", _short(t), f"times of at least one step, tau = {tau:g} (t = {t[0]:g} is step 0)")
    off = np.flatnonzero(np.abs(t / tau - steps) > 1e-9 * np.maximum(1.0, steps))
    if off.size:
        x = float(t[off[0]])
        raise ParameterError(
            "times", _short(t), f"multiples of tau = {tau:g} (t = {x:g} is not; nearest {steps[off[0]] * tau:g})"
        )
    return tuple(float(x) for x in t)


def _short(t: np.ndarray) -> list[float]:
    vals = [float(x) for x in t[:6]]
    return vals + ["..."] if t.size > 6 else vals
