"""What must not move between versions: the seeding keys, fingerprints and block layouts of every example spec
(so their partials and tables stay bit-identical), and run directories made by an earlier version (readable,
refittable, growable).

``tests/fixtures/example_keys.json`` and ``tests/fixtures/old_run/`` were made by the version before the open
engine (commit 5609761): a record of what that version computed, kept to hold later versions to it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ensemble
from ensemble import MemoryStore, execute, load_spec, parse_spec
from ensemble.spec.seeding import fingerprint
from tests.helpers import assert_tables_identical, read_tables, run_cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
KEYS = json.loads((FIXTURES / "example_keys.json").read_text())


@pytest.mark.parametrize("name", sorted(KEYS))
def test_example_specs_keep_their_keys_fingerprints_and_blocks(name):
    exp = load_spec(ROOT / "examples" / name)
    want = KEYS[name]
    assert exp.results_hash() == want["results_hash"]
    got = [[f"{pt.key:016x}", fingerprint(exp.kernel, pt.params), pt.block_size] for pt in exp.points]
    assert got == want["points"]


def test_every_example_is_in_the_record():
    assert sorted(KEYS) == sorted(p.name for p in (ROOT / "examples").glob("*.toml"))


@pytest.fixture
def old_run(tmp_path):
    out = tmp_path / "old_run"
    shutil.copytree(FIXTURES / "old_run", out)
    return out


def test_a_run_of_the_earlier_version_reads_refits_and_grows(old_run):
    old_summary = pd.read_parquet(old_run / "tables" / "summary.parquet")
    r = ensemble.open_run(old_run)
    assert r.spec.kernel.name == "anderson_trajectory" and len(r.points) == 2
    assert run_cli("fit", old_run).returncode == 0
    fresh = execute(parse_spec((old_run / "spec.toml").read_text(), name="old_run"), MemoryStore()).tables
    assert_tables_identical({"summary": read_tables(old_run)["summary"]}, {"summary": old_summary})
    assert_tables_identical(read_tables(old_run), fresh)  # the refit equals this version's own run of the spec
    res = run_cli("extend", old_run, "--more", "2", "--executor", "serial", "--no-progress")
    assert res.returncode == 0 and "resumed: 16 realizations" in res.stdout, res.stderr
    grown = (old_run / "spec.toml").read_text()
    assert_tables_identical(read_tables(old_run), execute(parse_spec(grown, name="old_run"), MemoryStore()).tables)


def test_log_times_are_the_same_on_every_machine():
    """The log grid is computed in correctly rounded decimal arithmetic: equal, to the last bit, to the exact
    10**y at the same y, which NumPy's vector power is not on every CPU (the earlier fixture's machine was off by
    one ulp at one time in 30)."""
    import decimal

    from ensemble.spec.experiment import log_grid

    for start, stop, num in [(0.1, 200.0, 30), (0.1, 50.0, 30), (1.2785933972325876, 6659.658101099719, 125)]:
        t = log_grid(start, stop, num)
        assert t[0] == start and t[-1] == stop and np.all(np.diff(t) > 0)
        ctx = decimal.Context(prec=60)
        lo, hi = float(ctx.log10(decimal.Decimal(start))), float(ctx.log10(decimal.Decimal(stop)))
        step = (hi - lo) / (num - 1)
        exact = [float(ctx.power(10, decimal.Decimal(lo + i * step))) for i in range(1, num - 1)]
        assert list(t[1:-1]) == exact
        assert np.allclose(t, np.geomspace(start, stop, num), rtol=1e-13, atol=0)


SMALL_LOG = """
kernel = "coupled_chains"
seed = 3
realizations = 4
batch_size = 2
[params]
l = 3
diagonal = true
[sweep]
J_int = [0.5, 2.0]
[times]
start = 0.1
stop = 20.0
num = 9
"""


def test_a_run_made_with_an_earlier_versions_times_keeps_its_partials(tmp_path, monkeypatch):
    """A run made when the times came from NumPy (here a NumPy one ulp off at one time) reads, refits and
    resumes with those times and its partials; a spec parsed without the adoption would not match them."""
    import ensemble.spec.experiment as spec_mod
    from ensemble.store.layout import read_record, recorded_fingerprints

    log_grid_now = spec_mod.log_grid

    def machine_geomspace(start, stop, num):  # the run's machine: its NumPy one ulp below the exact value at t[3]
        t = log_grid_now(start, stop, num)
        t[3] = np.nextafter(t[3], -np.inf)
        return t

    out = tmp_path / "run"
    (tmp_path / "s.toml").write_text(SMALL_LOG)
    monkeypatch.setattr(spec_mod, "legacy_grid", machine_geomspace)
    monkeypatch.setattr(spec_mod, "log_grid", machine_geomspace)  # the earlier version made the run
    ensemble.run(tmp_path / "s.toml", out=out, executor="serial")
    before = read_tables(out)
    monkeypatch.setattr(spec_mod, "log_grid", log_grid_now)  # this version reads it
    fresh = parse_spec(SMALL_LOG, name="s")
    recorded = recorded_fingerprints(read_record(out))
    assert any(recorded[pt.key] != fingerprint(fresh.kernel, pt.params) for pt in fresh.points)  # negative control
    r = ensemble.open_run(out)
    assert all(recorded[pt.key] == fingerprint(r.spec.kernel, pt.params) for pt in r.spec.points)
    ensemble.api.refit(out)
    assert_tables_identical(read_tables(out), before)
    ensemble.run(tmp_path / "s.toml", out=out, resume=True, executor="serial")
    assert_tables_identical(read_tables(out), before)
    assert read_record(out)["results_hash"] == r.spec.results_hash()
