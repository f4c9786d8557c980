"""ensemble reproduce PAPER: the registry of the papers' specs, the plan, a run that collects the figures,
and one-line refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ensemble.cli import main
from ensemble.present.reproduce import PAPERS, find_specs, resolve_paper
from ensemble.spec.experiment import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TINY = """
kernel = "anderson_trajectory"
seed = 1
realizations = 4
batch_size = 2
[params]
L = 8
[sweep]
W = [2.0, 6.0]
[times]
start = 0.5
stop = 20.0
num = 8
"""


@pytest.mark.parametrize("number", sorted(PAPERS))
@pytest.mark.parametrize("scale", ["laptop", "paper"])
def test_every_listed_spec_exists_and_is_valid(number, scale):
    for path in find_specs(PAPERS[number], scale, EXAMPLES):
        assert load_spec(path).points


def test_papers_by_number_or_name():
    assert resolve_paper("3") is PAPERS["003"] and resolve_paper("003") is PAPERS["003"]
    assert resolve_paper("Bubble") is PAPERS["002"]


def test_plan_runs_nothing(tmp_path, capsys):
    assert main(["reproduce", "003", "--plan", "--specs", str(EXAMPLES), "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "fig4a_anderson.toml" in out and "CPU-hours" in out and not (tmp_path / "r").exists()


def test_paper_scale_without_a_cluster_prints_the_plan(tmp_path, capsys):
    assert main(["reproduce", "002", "--scale", "paper", "--specs", str(EXAMPLES), "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "--cluster slurm|pbs" in out and "GiB per realization" in out and not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "argv,field",
    [(["reproduce", "7"], "PAPER"), (["reproduce", "003", "--specs", "/nonexistent"], "--specs"),
     (["reproduce", "003", "--scale", "huge"], None)],
)
def test_bad_input_is_one_line_exit_2(argv, field, capsys):
    with pytest.raises(SystemExit) if field is None else _no_raise():
        code = main(argv)
        assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1 and "Traceback" not in "".join(err)
    if field:
        assert len(err) == 1 and field in err[0]


class _no_raise:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.slow  # CI time (< 30 min): siblings cover the path in CI; -m slow runs it
def test_runs_every_spec_and_collects_the_figures(tmp_path, capsys):
    """A specs directory whose paper-003 laptop specs are tiny: both run, a second call resumes, figures collected."""
    specs = tmp_path / "specs"
    specs.mkdir()
    for name in PAPERS["003"].laptop:
        (specs / f"{name}.toml").write_text(f'name = "{name}"\n' + TINY)
    argv = ["reproduce", "front", "--specs", str(specs), "--out", str(tmp_path / "out"), "--executor", "serial", "--no-progress"]
    assert main(argv) == 0
    figures = sorted(p.name for p in (tmp_path / "out" / "figures").glob("*.png"))
    assert "fig4a_anderson__fig4_front.png" in figures and "fig3_fig4b_xxz_jumps__fig4_front.png" in figures
    capsys.readouterr()
    assert main(argv) == 0  # again: every block reused
    assert "resumed: 8 realizations were already done" in capsys.readouterr().out
    shutil.rmtree(tmp_path / "out")
