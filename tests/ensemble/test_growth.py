"""Runs that grow: more realizations and more points reuse every finished block, and the result is bit-identical
to a fresh run of the grown spec with the same block sizes; what cannot be a growth is refused in one line."""

from __future__ import annotations

import json

import pytest

import ensemble
from tests.helpers import assert_tables_identical, read_tables, run_cli, small_spec


def spec(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def serial(*args):
    return run_cli(*args, "--executor", "serial", "--no-progress")


def test_extend_reuses_blocks_and_equals_a_fresh_run(tmp_path):
    out = tmp_path / "run"
    assert serial("run", spec(tmp_path, small_spec(realizations=24, block_size=4)), "--out", out).returncode == 0
    res = serial("extend", out, "--realizations", "40")
    assert res.returncode == 0, res.stderr
    assert "resumed: 48 realizations were already done" in res.stdout and "ran 32 realizations" in res.stdout
    fresh = tmp_path / "fresh"
    assert serial("run", spec(tmp_path, small_spec(realizations=40, block_size=4), "f.toml"), "--out", fresh).returncode == 0
    assert_tables_identical(read_tables(out), read_tables(fresh))
    doc = json.loads((out / "run.json").read_text())
    assert doc["history"][0]["more"] == ["W=2: 24 -> 40", "W=6: 24 -> 40"] and len(list((out / "history").iterdir())) == 1


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_default_block_sizes_are_kept_when_a_run_grows(tmp_path):
    """Default blocks are ceil(N/100): a run made with N = 150 (blocks of 2) grows to 300 with blocks of 2, not 3."""
    text = small_spec(realizations=150).replace("block_size = 4\n", "")
    out = tmp_path / "run"
    assert serial("run", spec(tmp_path, text), "--out", out).returncode == 0
    grown = text.replace("realizations = 150", "realizations = 300")
    res = serial("run", spec(tmp_path, grown, "g.toml"), "--out", out, "--resume")
    assert res.returncode == 0 and "grows" in res.stderr, res.stderr
    assert {p["block_size"] for p in json.loads((out / "run.json").read_text())["points"]} == {2}
    fresh = tmp_path / "fresh"
    with_blocks = grown.replace("realizations = 300", "realizations = 300\nblock_size = 2")
    assert serial("run", spec(tmp_path, with_blocks, "f.toml"), "--out", fresh).returncode == 0
    assert_tables_identical(read_tables(out), read_tables(fresh))


@pytest.mark.slow  # CI time (< 30 min): siblings cover the path in CI; -m slow runs it
def test_new_points_reuse_the_old_points_and_match_a_fresh_run(tmp_path):
    out = tmp_path / "run"
    assert serial("run", spec(tmp_path, small_spec()), "--out", out).returncode == 0
    wider = small_spec().replace("W = [2.0, 6.0]", "W = [2.0, 4.0, 6.0]")
    res = serial("run", spec(tmp_path, wider, "w.toml"), "--out", out, "--resume")
    assert res.returncode == 0, res.stderr
    assert "resumed: 48 realizations were already done" in res.stdout and "ran 24 realizations" in res.stdout
    fresh = tmp_path / "fresh"
    assert serial("run", spec(tmp_path, wider, "f.toml"), "--out", fresh).returncode == 0
    assert_tables_identical(read_tables(out), read_tables(fresh))


def test_removed_points_need_drop_points(tmp_path):
    out = tmp_path / "run"
    assert serial("run", spec(tmp_path, small_spec()), "--out", out).returncode == 0
    narrower = spec(tmp_path, small_spec().replace("W = [2.0, 6.0]", "W = [2.0]"), "n.toml")
    res = serial("run", narrower, "--out", out, "--resume")
    assert res.returncode == 2 and "leaves out 1 point" in res.stderr and "--drop-points" in res.stderr
    res = serial("run", narrower, "--out", out, "--resume", "--drop-points")
    assert res.returncode == 0 and "resumed: 24" in res.stdout, res.stderr
    assert set(read_tables(out)["summary"]["W"]) == {2.0}
    assert len(list((out / "partials").iterdir())) == 2  # the dropped point's partials stay on disk


@pytest.mark.parametrize(
    "edit, words",
    [
        ({"realizations = 24": "realizations = 16"}, ["can grow, not shrink"]),
        ({"stop = 40.0": "stop = 80.0"}, ["other parameters or sample times", "new --out"]),
        ({"seed = 99": "seed = 98"}, ["another kernel or seed"]),
        ({"block_size = 4": "block_size = 2"}, ["blocks of 2", "block_size = 4"]),
        ({"min_start = 2.0": "min_start = 2.0\n[distributions]\nIg = {}"}, ["[distributions]"]),
    ],
    ids=["shrink", "times", "seed", "block size", "distributions"],
)
def test_what_is_not_a_growth_is_refused(tmp_path, edit, words):
    out = tmp_path / "run"
    assert serial("run", spec(tmp_path, small_spec()), "--out", out).returncode == 0
    text = small_spec()
    for a, b in edit.items():
        text = text.replace(a, b)
    res = serial("run", spec(tmp_path, text, "e.toml"), "--out", out, "--resume")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    for w in words:
        assert w in res.stderr, (w, res.stderr)


def test_extend_through_the_api_with_more(tmp_path):
    r = ensemble.run(small_spec(), out=tmp_path / "r", executor="serial")
    r2 = r.extend(more=8, executor="serial")
    assert list(r2.points.realizations) == [32, 32]
    fresh = ensemble.run(small_spec(realizations=32), out=tmp_path / "f", executor="serial")
    assert_tables_identical(r2.tables, fresh.tables)
