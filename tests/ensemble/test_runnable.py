"""A spec that validates can run, and runs right (issue 33): what would stall, give NaN errors, fail after
blocks ran, hang, collapse silently or quietly change the physics is refused or said before anything runs."""

from __future__ import annotations

import pytest

import ensemble
from tests.ensemble.test_hardening import one_line_error, serial_run, spec_file
from tests.helpers import run_cli, small_spec

NORMAL = '''
kernel = "module:tests.ensemble.normal_kernel"
seed = 5
realizations = {n}
block_size = {bs}
[precision]
observable = "x"
sem = 1e-9
max_realizations = {cap}
'''


@pytest.mark.parametrize("n, bs, cap, ok", [(10, 4, 10, False), (10, 4, 12, True), (8, 4, 8, True), (9, 3, 10, True)])
def test_a_precision_cap_below_the_starting_blocks_is_refused(tmp_path, n, bs, cap, ok):
    text = NORMAL.format(n=n, bs=bs, cap=cap)
    if not ok:
        with pytest.raises(ensemble.SpecError, match=r"precision.max_realizations.*at least 12.*whole blocks of 4"):
            ensemble.validate(text, executor="serial")
        one_line_error(run_cli("validate", spec_file(tmp_path, text)), "precision.max_realizations", "at least 12")
        return
    r = ensemble.run(text, out=tmp_path / "r", executor="serial")  # ends (at its cap: the goal is unreachable)
    assert r.summary["n"].iloc[0] == cap // bs * bs


def test_a_block_size_that_leaves_one_block_is_refused(tmp_path):
    one_line_error(run_cli("validate", spec_file(tmp_path, small_spec(realizations=5, batch_size=8, block_size=8))),
                   "block_size", "at most 4", "two blocks")  # fmt: skip
    one_line_error(run_cli("validate", spec_file(tmp_path, small_spec(realizations=5, batch_size=8, block_size=5))),
                   "block_size", "at most 4")  # fmt: skip
    res = serial_run(spec_file(tmp_path, small_spec(realizations=5, batch_size=8, block_size=4)), tmp_path / "r")
    assert res.returncode == 0, res.stderr
    s = ensemble.open_run(tmp_path / "r").summary
    assert s[s.estimator == "jackknife"]["sem"].notna().any()


@pytest.mark.parametrize("goal, words", [('fit = "nofit", column = "invA", err = 0.1', ["precision.fit", "nofit", "front"]),
                                         ('fit = "front", column = "slope", err = 0.1', ["precision.column", "invA"]),
                                         ('fit = "frnt", column = "invA", err = 0.1', ["did you mean 'front'"])])  # fmt: skip
def test_a_goal_on_a_fit_or_column_that_does_not_exist_is_refused_before_anything(tmp_path, goal, words):
    text = small_spec() + "[precision]\n" + goal.replace(", ", "\n") + "\nmax_realizations = 48\n"
    out = tmp_path / "r"
    for cmd in (["validate", spec_file(tmp_path, text)], ["run", spec_file(tmp_path, text), "--out", out,
                                                          "--executor", "serial"]):  # fmt: skip
        one_line_error(run_cli(*cmd), *words)
    assert not out.exists()


def test_a_goal_on_a_real_fit_column_validates(tmp_path):
    text = small_spec() + '[precision]\nfit = "front"\ncolumn = "invA"\nerr = 0.1\nmax_realizations = 48\n'
    assert run_cli("validate", spec_file(tmp_path, text)).returncode == 0


@pytest.mark.parametrize("num", ["1000000", "1e9", "100001"])
def test_absurd_numbers_of_times_are_refused_at_once(tmp_path, num):
    text = small_spec().replace("num = 12", f"num = {num}")
    one_line_error(run_cli("validate", spec_file(tmp_path, text)), "times.num")  # before any time is made


def test_times_that_snap_together_are_said(tmp_path):
    text = small_spec().replace("num = 12", "num = 5000")
    res = run_cli("validate", spec_file(tmp_path, text))
    assert res.returncode == 0 and "warning: times.num = 5000 gives" in res.stdout, res.stdout + res.stderr
    quiet = run_cli("validate", spec_file(tmp_path, small_spec()))
    assert "warning" not in quiet.stdout


BUBBLE = 'kernel = "xxz_bubble"\nseed = 1\nrealizations = 4\nblock_size = 2\n[params]\nL = 8\nW = 1.0\nn_goe = 0\n{extra}'


def test_a_default_that_takes_most_of_a_small_spectrum_is_said_and_marked(tmp_path):
    res = run_cli("validate", spec_file(tmp_path, BUBBLE.format(extra="")))
    assert res.returncode == 0 and "warning: n_eig = 50 takes 71% of the sector's 70 levels" in res.stdout, res.stdout
    r = ensemble.run(BUBBLE.format(extra=""), out=tmp_path / "wide", executor="serial")
    assert set(r.fits["status"]) == {"at resolution limit"}
    narrow = ensemble.run(BUBBLE.format(extra="n_eig = 16\n"), out=tmp_path / "narrow", executor="serial")
    assert "at resolution limit" not in set(narrow.fits["status"])  # the negative control
    plan = ensemble.validate(BUBBLE.format(extra=""), executor="serial")
    assert plan.warnings and "71%" in repr(plan)


@pytest.mark.parametrize("kw, word", [({"threads": 0}, "threads"), ({"workers": 0}, "workers"),
                                      ({"workers": -3}, "workers"), ({"workers": 1.5}, "workers"),
                                      ({"threads": True}, "threads")])  # fmt: skip
def test_executor_arguments_are_checked(kw, word):
    with pytest.raises(ensemble.UsageError, match=word):
        ensemble.validate(small_spec(), **kw)
    with pytest.raises(ensemble.UsageError, match=word):
        ensemble.make_executor("local", **kw)
