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

import pandas as pd
import pytest

import ensemble
from ensemble import MemoryStore, execute, load_spec, parse_spec
from ensemble.seeding import fingerprint
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
