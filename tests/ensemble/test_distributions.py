"""Distributions: histograms, quantiles and typical values against known answers (uniform draws), with a
negative control; bit-identical under batching and extension; spec validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ensemble
from ensemble import MemoryStore, SpecError, execute, parse_spec
from tests.helpers import assert_tables_identical

#: The test kernel's output x is a uniform draw on [0, 1) at each of its two times.
UNIFORM = """
kernel = "module:tests.ensemble.faulty_kernel"
seed = {seed}
realizations = {n}
batch_size = {batch}
block_size = 20
[params]
threshold = -1.0
[times]
values = [1.0, 2.0]
[distributions]
x = {{ bins = 10, range = [0.0, 1.0], typical = true }}
"""


def uniform(n=2000, batch=100, seed=5):
    return parse_spec(UNIFORM.format(n=n, batch=batch, seed=seed))


def rows(summary, name):
    return summary[summary.observable == name].sort_values([c for c in ("t", "bin") if c in summary])


def test_known_answers_of_uniform_draws_within_a_few_errors():
    s = execute(uniform(), MemoryStore()).tables["summary"]
    hist = rows(s, "x.hist")
    assert len(hist) == 20 and np.allclose(hist.groupby("t")["mean"].sum() * 0.1, 1.0)
    z = (hist["mean"] - 1.0) / hist["sem"]
    assert np.abs(z).max() < 4.5 and abs(z.mean()) < 1.0
    for name, truth in (("x.median", 0.5), ("x.q25", 0.25), ("x.q75", 0.75), ("x.typical", math.exp(-1.0))):
        r = rows(s, name)
        zs = (r["mean"] - truth) / r["sem"]
        assert np.all(np.abs(zs) < 4), (name, list(r["mean"]), list(r["sem"]))
    assert rows(s, "x.outside")["mean"].max() == 0.0
    # negative control: a wrong truth is many errors away
    med = rows(s, "x.median")
    assert np.all(np.abs((med["mean"] - 0.4) / med["sem"]) > 4)
    typ = rows(s, "x.typical")
    assert np.all(np.abs((typ["mean"] - 0.5) / typ["sem"]) > 4)  # the mean is not the typical value


def test_distributions_are_bit_identical_whatever_the_batching_and_under_extension(tmp_path):
    a = execute(uniform(batch=20), MemoryStore()).tables
    b = execute(uniform(batch=400), MemoryStore()).tables
    assert_tables_identical(a, b)
    r = ensemble.run(uniform(n=1000), out=tmp_path / "r", executor="serial")
    grown = r.extend(realizations=2000, executor="serial")
    assert_tables_identical(grown.tables, a)


@pytest.mark.parametrize(
    "table, field",
    [
        ("nope = {}", "distributions.nope"),
        ("x = { bins = 1, range = [0.0, 1.0] }", "distributions.x.bins"),
        ("x = { range = [1.0, 0.0] }", "distributions.x.range"),
        ("x = {}", "distributions.x.range"),  # the test kernel declares no default range
        ("x = { pool = ['site'], range = [0.0, 1.0] }", "distributions.x.pool"),
        ("x = { typical = 1, range = [0.0, 1.0] }", "distributions.x.typical"),
        ("x = { colour = 'red', range = [0.0, 1.0] }", "distributions.x.colour"),
    ],
)
def test_bad_distribution_specs_name_the_field(table, field):
    text = UNIFORM.format(n=10, batch=10, seed=1).split("[distributions]")[0] + "[distributions]\n" + table + "\n"
    with pytest.raises(SpecError) as e:
        parse_spec(text)
    assert e.value.field == field


def test_a_kernels_declared_range_is_the_default(tmp_path):
    text = ('kernel = "xxz_bubble"\nseed = 1\nrealizations = 6\n[params]\nL = 6\nn_goe = 2\nbeta = 0.5\nn_eig = 6\n'
            "[distributions]\ngamma = { pool = true }\n")  # fmt: skip
    exp = parse_spec(text)
    (d,) = exp.distributions
    assert (d.lo, d.hi, d.bins, d.pool) == (0.5, 1.0, 50, ("site",))
    s = execute(exp, MemoryStore()).tables["summary"]
    assert {"gamma.hist", "gamma.median", "mag_hist.median", "r_hist.median"} <= set(s.observable)


def test_a_zero_value_makes_the_typical_value_undefined_and_says_so():
    text = UNIFORM.format(n=10, batch=10, seed=1).replace("threshold = -1.0", "threshold = 2.0\nnan = false")
    text = text.replace("block_size = 20", "block_size = 5")  # two blocks of the ten
    exp = parse_spec(text)
    with pytest.raises(ensemble.RealizationError):
        execute(exp, MemoryStore())  # the test kernel raises at threshold 2: the run stops with the realization
