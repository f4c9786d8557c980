"""Runs that learn their cost (issue 36): every run records CPU seconds and peak memory per point in run.json
(summed over the sessions of a grown run) and in this machine's ledger; `ensemble validate` shows what earlier
runs of the same kernel and parameter values cost here, and says when the kernel's cost model is off by more
than 2x. Only this machine's records count (a negative control from another host is ignored)."""

from __future__ import annotations

import json

from ensemble import parse_spec
from ensemble.running.ledger import machine, recorded
from tests.ensemble.test_hardening import spec_file
from tests.helpers import run_cli, small_spec


def ensemble_api():
    import ensemble

    return ensemble


def _ledger(tmp_path, monkeypatch):
    path = tmp_path / "costs.jsonl"
    monkeypatch.setenv("MBL_ENSEMBLE_COSTS", str(path))
    return path


def test_a_run_records_its_cost_per_point_and_validate_reads_it_back(tmp_path, monkeypatch):
    ledger = _ledger(tmp_path, monkeypatch)
    spec = spec_file(tmp_path, small_spec())
    out = tmp_path / "run"
    assert run_cli("run", spec, "--out", out, "--executor", "serial", "--no-progress").returncode == 0
    exp = parse_spec(spec.read_text())
    costs = json.loads((out / "run.json").read_text())["costs"]
    assert sorted(costs) == sorted(f"{pt.key:016x}" for pt in exp.points)
    for row in costs.values():
        assert row["realizations"] == 24 and row["cpu_seconds"] > 0 and row["peak_bytes"] > 2**20
        assert row["seconds_per_realization"] == row["cpu_seconds"] / 24 and row["machine"] == machine()
    lines = [json.loads(t) for t in ledger.read_text().splitlines()]
    assert len(lines) == 2 and {r["kernel"] for r in lines} == {"anderson_trajectory"}
    # grown: the run's record sums both sessions; the ledger gains what the new blocks cost
    assert run_cli("extend", out, "--more", "8", "--executor", "serial", "--no-progress").returncode == 0
    grown = json.loads((out / "run.json").read_text())["costs"]
    assert {r["realizations"] for r in grown.values()} == {32}
    assert len(ledger.read_text().splitlines()) == 4
    res = run_cli("validate", spec)
    assert res.returncode == 0, res.stderr
    said = [ln for ln in res.stdout.splitlines() if ln.startswith("    recorded on this machine:")]
    assert len(said) == 2 and all("over 32 realizations" in ln for ln in said), said  # both sessions: same values
    assert "at the costs recorded on this machine:" in res.stdout and "(2 of 2 point(s) recorded" in res.stdout
    # a table of them: Run.costs and the costs view of a query (one run, and a catalog with its run column)
    run = ensemble_api().open_run(out)
    assert sorted(run.costs["key"]) == sorted(grown) and set(run.costs["realizations"]) == {32}
    q = run.query("SELECT key, cpu_seconds FROM costs ORDER BY key")
    assert [round(x, 12) for x in q["cpu_seconds"]] == [round(grown[k]["cpu_seconds"], 12) for k in q["key"]]
    cat = ensemble_api().query([out, out.parent / "run"], "SELECT run, count(*) AS n FROM costs GROUP BY run")
    assert cat["n"].tolist() == [2]
    # the Python API's plan holds the same records (ensemble.validate reads the ledger as the CLI does)
    import ensemble

    plan = ensemble.validate(spec.read_text())
    assert set(plan.recorded) == {pt.key for pt in exp.points}
    assert plan.points["recorded_seconds_per_realization"].notna().all()
    assert {r.realizations for r in plan.recorded.values()} == {32}
    assert plan.recorded_cpu_hours > 0 and "at the costs recorded on this machine (2 of 2 point(s))" in repr(plan)
    ledger.unlink()  # negative control: no ledger, no record
    assert ensemble.validate(spec.read_text()).recorded == {} and ensemble.validate(spec.read_text()).recorded_cpu_hours is None


def test_validate_says_when_the_cost_model_is_off_here_and_ignores_other_machines(tmp_path, monkeypatch):
    ledger = _ledger(tmp_path, monkeypatch)
    spec = spec_file(tmp_path, small_spec())
    exp = parse_spec(spec.read_text())
    from ensemble.running.cost import estimates
    from ensemble.spec.seeding import fingerprint

    model = [e.seconds for e in estimates(exp)]
    rows = [{"kernel": "anderson_trajectory", "fingerprint": fingerprint(exp.kernel, pt.params), "machine": machine(),
             "time": "2026-01-01T00:00:00", "realizations": 100, "seconds_per_realization": 10 * s, "peak_bytes": 2**27}
            for pt, s in zip(exp.points, model)]  # fmt: skip
    other = dict(rows[0], machine="elsewhere (another CPU, 64 cores)", seconds_per_realization=model[0] / 100)
    ledger.write_text("".join(json.dumps(r) + "\n" for r in [*rows, other]) + "not json\n")
    got = recorded(exp)
    assert {k: round(v.seconds / s, 6) for (k, v), s in zip(got.items(), model)} == {pt.key: 10.0 for pt in exp.points}
    res = run_cli("validate", spec)
    assert res.returncode == 0, res.stderr
    off = [ln for ln in res.stdout.splitlines() if "the cost model is off by" in ln]
    assert len(off) == 2 and all("10.0x on this machine (underestimates)" in ln for ln in off), off
    # negative control: within 2x, nothing is said
    ledger.write_text("".join(json.dumps(dict(r, seconds_per_realization=1.5 * s)) + "\n" for r, s in zip(rows, model)))
    res = run_cli("validate", spec)
    assert "recorded on this machine" in res.stdout and "the cost model is off" not in res.stdout


def test_a_session_that_stops_half_way_records_what_it_ran(tmp_path, monkeypatch):
    """A kernel failing part-way through (exit 1): the blocks finished before it are timed into run.json and the
    ledger all the same (before, a stopped session recorded nothing); the same spec with no failing draw records
    all its 200 realizations (the count is the session's, not a constant)."""
    from tests.ensemble.faulty_kernel import SPEC as FAULTY

    ledger = _ledger(tmp_path, monkeypatch)
    spec = spec_file(tmp_path, FAULTY.format(extra=""))
    out = tmp_path / "run"
    res = run_cli("run", spec, "--out", out, "--executor", "serial", "--no-progress")
    assert res.returncode == 1, res.stderr
    (row,) = json.loads((out / "run.json").read_text())["costs"].values()
    assert 0 < row["realizations"] < 200 and row["realizations"] % 10 == 0 and row["cpu_seconds"] > 0
    assert [json.loads(t)["realizations"] for t in ledger.read_text().splitlines()] == [row["realizations"]]
    spec.write_text(FAULTY.format(extra="").replace("threshold = 0.01", "threshold = -1.0"))  # every draw passes
    res = run_cli("run", spec, "--out", tmp_path / "whole", "--executor", "serial", "--no-progress")
    assert res.returncode == 0, res.stderr
    (whole,) = json.loads((tmp_path / "whole" / "run.json").read_text())["costs"].values()
    assert whole["realizations"] == 200
