"""The tables cannot be read two ways (issue 33): no parameter or axis takes a reserved column's name in any case,
and a number that is in both the summary and the fits table carries one error bar."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import ensemble
from ensemble.spec.columns import RESERVED_COLUMNS
from tests.ensemble.test_hardening import one_line_error
from tests.helpers import HANG_GUARD

KERNEL = '''
from dataclasses import dataclass, field
import numpy as np
NAME = "colk_{tag}"
@dataclass(frozen=True)
class Params:
    {param}: int = 2
    x: float = 1.0
def warmup_params(): return Params()
def schema(p): return {{"y": {{"{axis}": np.arange(2)}}}}
def sample(p, rng): return rng.normal()
def realize(p, d): return {{"y": np.full(2, d)}}
'''


@pytest.mark.parametrize("param, axis, word", [("N", "site", "'n'"), ("MEAN", "site", "'mean'"), ("L", "Sem", "'sem'"),
                                               ("L", "l", "one column"), ("Observable", "k", "'observable'"),
                                               ("L", "run_dir", "'run_dir'")])  # fmt: skip
def test_reserved_or_colliding_column_names_are_refused_at_spec_time(tmp_path, param, axis, word):
    tag = f"{param}_{axis}".lower()
    (tmp_path / f"colk_{tag}.py").write_text(KERNEL.format(tag=tag, param=param, axis=axis))
    (tmp_path / "s.toml").write_text(f'kernel = "module:colk_{tag}"\nseed = 1\nrealizations = 4\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    for cmd in (["validate", "s.toml"], ["run", "s.toml", "--executor", "serial", "--out", "r"]):
        res = subprocess.run([sys.executable, "-m", "ensemble", *cmd], capture_output=True, text=True, cwd=tmp_path,
                             env=env, timeout=HANG_GUARD)  # fmt: skip
        one_line_error(res, "kernel", word)
    assert not (tmp_path / "r").exists()
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ensemble.SpecError, match=word):
            ensemble.validate({"kernel": f"module:colk_{tag}", "seed": 1, "realizations": 4}, executor="serial")
    finally:
        sys.path.remove(str(tmp_path))


def test_every_built_in_kernel_passes_the_column_check():
    from ensemble.models import builtin_kernels, resolve_kernel
    from ensemble.spec.columns import check_column_names

    for name in builtin_kernels():
        kernel, _ = resolve_kernel(name)
        check_column_names(kernel, kernel.warmup_params())
    assert {"n", "mean", "sem", "observable"} <= set(RESERVED_COLUMNS)


def _one_error_bar(run, fit: str, column: str, observable: str, **where):
    s, f = run.summary, run.fits
    rows = s[(s.observable == observable)]
    for k, v in where.items():
        rows = rows[rows[k] == v]
    fits = f[f.fit == fit]
    assert len(rows) == 1 and len(fits) == 1
    assert fits[column].iloc[0] == rows["mean"].iloc[0]
    assert fits[f"{column}_err"].iloc[0] == rows["sem"].iloc[0]  # bit for bit: one estimator
    return rows["sem"].iloc[0]


def test_the_mean_gap_ratio_has_one_error_bar(tmp_path):
    """Blocks of 4 realizations: the block jackknife of a plain mean would differ from the summary's sem."""
    spec = ('kernel = "xxz_bubble"\nseed = 2\nrealizations = 48\nblock_size = 4\n'
            '[params]\nL = 8\nW = 2.0\nn_goe = 0\nn_eig = 10\n')  # fmt: skip
    run = ensemble.run(spec, out=tmp_path / "r", executor="serial")
    sem = _one_error_bar(run, "bubble_point", "r_mean", "r")
    # the negative control: the block jackknife of the same mean is a different number
    from ensemble.analysis.reduce import jackknife
    from ensemble.store.stores import DirectoryStore
    from ensemble.analysis.tables import merge_blocks

    exp = run.spec
    with DirectoryStore(run.path) as store:
        total = merge_blocks(store.chunks(exp, exp.points[0]))
        _, jk = jackknife(lambda m: {"r": m["r"]}, total, store.chunks(exp, exp.points[0]))
    assert not np.isclose(float(jk["r"]), sem, rtol=1e-6, atol=0)


def test_the_bath_ipr_and_the_coupling_have_the_summarys_error_bars(tmp_path):
    spec = 'kernel = "rmt_bath"\nseed = 3\nrealizations = 16\nblock_size = 4\n[params]\nl_b = 4\nn_lioms = 2\ng_probe = 0.1\n'
    run = ensemble.run(spec, out=tmp_path / "r", executor="serial")
    _one_error_bar(run, "ipr_point", "D_OB", "D", op="OB")
    _one_error_bar(run, "ipr_point", "G", "G")


def test_the_quench_window_averages_have_the_summarys_error_bars(tmp_path):
    spec = ('kernel = "coupled_chains"\nseed = 3\nrealizations = 16\nblock_size = 4\n[params]\nl = 3\n'
            '[times]\nvalues = [1.0, 2.0, 4.0]\n')  # fmt: skip
    run = ensemble.run(spec, out=tmp_path / "r", executor="serial")
    _one_error_bar(run, "quench_point", "M_sys", "M_window", part="sys")
    _one_error_bar(run, "quench_point", "F_env", "F_window", part="env")
