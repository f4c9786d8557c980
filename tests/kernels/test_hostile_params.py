"""Every parameter of every kernel, given hostile values, either validates or raises ParameterError naming
the field: never another exception (which would surface as a traceback instead of one line)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from ensemble.models import builtin_kernels, kernel_plugin
from kernels._interface import load
from kernels._params import MAX_MAGNITUDE, ParameterError

HOSTILE = ["x", "", -1, 0, -0.0, 2**62, -(2**62), 1e300, -1e300, math.inf, -math.inf, math.nan, True, [1, 2], {"a": 1}, None, 3.5]


def cases():
    for name in builtin_kernels():
        kernel = load(kernel_plugin(name).value)
        base = kernel.warmup_params()
        for f in dataclasses.fields(kernel.Params):
            yield pytest.param(kernel, base, f.name, id=f"{name}.{f.name}")


@pytest.mark.parametrize("kernel, base, field", list(cases()))
def test_hostile_values_validate_or_name_the_field(kernel, base, field):
    for value in HOSTILE:
        kw = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
        kw[field] = value
        try:
            p = kernel.Params(**kw)
        except ParameterError as e:
            assert e.field in kw, f"{field} = {value!r}: the error names {e.field!r}, not a parameter"
            continue
        # accepted: the validated value must be usable (finite, bounded, no negative zero)
        v = getattr(p, field)
        if isinstance(v, float):
            assert math.isfinite(v) and abs(v) <= MAX_MAGNITUDE and not (v == 0 and math.copysign(1, v) < 0), (field, value)


def test_negative_zero_is_the_same_point_as_zero():
    from ensemble.spec.seeding import point_key

    kernel = load("kernels.front.anderson_trajectory")
    a = kernel.Params(L=4, W=0.0, times=(0.05,))
    b = kernel.Params(L=4, W=-0.0, times=(0.05,))
    kernel = load("kernels.front.anderson_trajectory")
    assert point_key(kernel, a) == point_key(kernel, b)
    assert np.signbit(b.W) == np.False_


@pytest.mark.parametrize("name", ["anderson_trajectory", "xxz_trajectory", "xxz_exact", "boson_tebd"])
def test_sample_times_below_one_step_are_refused(name):
    """A time that rounds to step 0 would leave the outputs of that time unwritten."""
    kernel = load(kernel_plugin(name).value)
    base = kernel.warmup_params()
    step_field = kernel.time_step
    kw = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
    for t in (1e-300, 0.3 * getattr(base, step_field)):
        kw["times"] = (t,)
        with pytest.raises(ParameterError, match="step"):
            kernel.Params(**kw)
