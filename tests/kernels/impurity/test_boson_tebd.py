"""boson_tebd (TeNPy TEBD) against the exact kernel on the same draws: agreement within the
Trotter error (which falls as dt^4 for order 4) when nothing is truncated, and within the reported
truncation error when the bond dimension is capped."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.impurity import boson_impurity as bi
from kernels.impurity import boson_tebd as bt
from kernels._params import ParameterError


def exact(p: bt.Params, d):
    return bi.realize(bi.Params(L=p.L, W=p.W, U=p.U, t_d=p.t_d, t_c=p.t_c, d_bits=p.d_bits, c_site=p.c_site, times=p.times), d)


def test_untruncated_tebd_equals_exact_up_to_a_fourth_order_trotter_error():
    errs = []
    for dt in (0.1, 0.05):
        p = bt.Params(L=6, U=4.0, W=3.0, dt=dt, chi_max=64, times=(1.0, 2.0))
        d = bt.sample(p, np.random.default_rng(2))
        out, ref = bt.realize(p, d), exact(p, d)
        assert out["trunc_err"].max() < 1e-12
        errs.append(max(float(np.abs(out[k] - ref[k]).max()) for k in ("n_c", "n_d", "nd_nd", "S")))
        np.testing.assert_allclose(out["particles"], ref["particles"], atol=1e-10)
    assert errs[1] < 1e-6
    assert 10 < errs[0] / errs[1] < 25  # 2^4 = 16 for a fourth-order splitting


@pytest.mark.slow  # CI time (12 s); the untruncated TEBD against exact evolution stays
def test_capped_bond_dimension_stays_within_the_reported_truncation_error():
    p = bt.Params(L=8, U=4.0, dt=0.05, chi_max=8, times=(1.0, 3.0))
    d = bt.sample(p, np.random.default_rng(1))
    out, ref = bt.realize(p, d), exact(p, d)
    eps = out["trunc_err"]
    assert eps[-1] > 1e-4 and out["chi"].max() <= 8  # something was truncated
    for j in range(2):
        dev = max(float(np.abs(out[k][j] - ref[k][j]).max()) for k in ("n_c", "n_d"))
        assert dev <= 2 * np.sqrt(2 * eps[j]) + 1e-6  # |<O>| changes by at most 2 ||delta psi||, ||delta psi||^2 <= 2 eps


@pytest.mark.parametrize("kw,field", [(dict(order=3), "order"), (dict(times=(0.07,)), "times"), (dict(chi_max=0), "chi_max")])
def test_bad_parameters_name_the_field(kw, field):
    with pytest.raises(ParameterError) as e:
        bt.Params(**{"times": (1.0,), **kw})
    assert e.value.field == field


@pytest.mark.slow
def test_tebd_equals_exact_at_L_12():
    p = bt.Params(L=12, U=12.0, dt=0.05, chi_max=256, times=(2.0, 5.0))
    d = bt.sample(p, np.random.default_rng(12))
    out, ref = bt.realize(p, d), exact(p, d)
    dev = max(float(np.abs(out[k] - ref[k]).max()) for k in ("n_c", "n_d", "nd_nd"))
    assert dev < 1e-5 + 2 * np.sqrt(2 * out["trunc_err"][-1])
