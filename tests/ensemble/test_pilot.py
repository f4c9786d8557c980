"""ensemble validate with a precision goal: a pilot of each point's first realizations estimates the realizations
the goal needs (issue 35: validate predicted 960 realizations where the run needed 3790). Checked against runs of
a kernel whose spread is known (x = mu + sigma z), with a cap as the negative control."""

from __future__ import annotations

import ensemble
from ensemble import MemoryStore, execute, parse_spec
from tests.ensemble.test_precision import normal, reached
from tests.helpers import run_cli


def test_the_pilot_predicts_the_realizations_a_goal_takes():
    spec = normal(seed=5, sem=0.05, cap=20000)  # sigma = 1 and 3: about 400 and 3600 realizations
    plan = ensemble.validate(spec, executor="serial")
    predicted = {round(pt.params.sigma): g.needed for pt, g in zip(plan.experiment.points, plan.goal)}
    assert all(not g.at_cap and g.pilot >= 8 for g in plan.goal)
    result = execute(parse_spec(spec), MemoryStore())
    actual = {round(sigma): n for sigma, (n, _) in reached(result).items()}
    for sigma in (1, 3):
        assert 0.5 * actual[sigma] <= predicted[sigma] <= 2.0 * actual[sigma], (sigma, predicted, actual)
    assert predicted[3] > 4 * predicted[1]  # the spread, not the starting realizations, decides
    assert plan.goal_cpu_hours is not None and plan.goal_cpu_hours > plan.cpu_hours


def test_points_that_will_stop_at_the_cap_are_said(tmp_path):
    spec = tmp_path / "g.toml"
    spec.write_text(normal(seed=5, sem=0.05, cap=800))  # sigma = 3 needs ~3600: the cap
    plan = ensemble.validate(spec.read_text(), executor="serial")
    at_cap = {round(pt.params.sigma): g.at_cap for pt, g in zip(plan.experiment.points, plan.goal)}
    assert at_cap == {1: False, 3: True}
    res = run_cli("validate", spec)
    assert res.returncode == 0, res.stderr
    assert "likely to stop at the cap" in res.stdout and "estimated cost with the goal" in res.stdout


def test_a_goal_on_a_fit_states_the_range_without_a_pilot():
    spec = normal(seed=5).replace('observable = "x"\nsem = 0.1', 'fit = "mean"\ncolumn = "x"\nerr = 0.1')
    plan = ensemble.validate(spec, executor="serial")
    assert all(g.needed is None and g.pilot == 0 and "fit" in g.why for g in plan.goal)
    assert plan.goal_cpu_hours is None
