"""``ensemble reproduce PAPER``: the specs that reproduce each seed paper's key figures, at two scales.

``laptop`` specs run on a 2-core machine in minutes to about half an hour each;
``paper`` specs are the papers' own sizes and realization counts, for a cluster
(``--cluster slurm|pbs`` or ``--scheduler``); without one, the command prints the
plan (points, realizations, CPU-hours, memory) and how to submit it.

The specs are the repository's ``examples/*.toml``: found in ``--specs DIR``,
else ``./examples``, else the ``examples`` directory beside the installed
package (a checkout or an editable install).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ensemble.errors import UsageError
from ensemble.store.layout import Layout

__all__ = ["PAPERS", "Paper", "collect_figures", "find_specs", "resolve_paper"]


@dataclass(frozen=True)
class Paper:
    number: str
    aliases: tuple[str, ...]
    title: str
    laptop: tuple[str, ...]
    paper: tuple[str, ...]


PAPERS = {
    p.number: p
    for p in (
        Paper("000", ("chains", "coupled_chains"), "a localized chain and a finite environment: junction and ladder quenches",
              laptop=("fig2_chains", "fig5_chains"), paper=("fig2_chains", "fig3_junction_map", "fig5_chains")),
        Paper("001", ("boson", "impurity"), "an Anderson insulator of hard-core bosons with one clean boson",
              laptop=("fig1_fig2_boson_exact",), paper=("paper_scale_boson_tebd",)),
        Paper("002", ("bubble",), "an ergodic bubble closing an XXZ chain into a ring",
              laptop=("fig8_bubble_ngoe", "fig6_bubble_beta", "fig2_fig3_bubble"), paper=("paper_scale_bubble",)),
        Paper("003", ("front", "anderson", "xxz"), "thermalization fronts and avalanche thresholds of chains coupled to a bath",
              laptop=("fig4a_anderson", "fig3_fig4b_xxz_jumps", "fig4b_xxz_L14_L16"), paper=("fig4a_anderson", "paper_scale_xxz")),
        Paper("004", ("rmt", "liom"), "LIOMs coupled to random-matrix and local spin baths",
              laptop=("fig3_fig4_rmt_small", "fig3_single_spin_rmt", "fig6_rmt", "fig7_rmt_local"),
              paper=("fig3_fig4_rmt", "fig3_single_spin_rmt", "fig5_rmt", "fig5_rmt_bprime", "fig6_rmt", "fig7_rmt_local")),
    )
}  # fmt: skip

SCALES = ("laptop", "paper")


def resolve_paper(name: str) -> Paper:
    """The paper by number ("3", "003") or alias ("anderson"); UsageError naming the choices otherwise."""
    key = name.strip().lower()
    if key.isdigit() and f"{int(key):03d}" in PAPERS:
        return PAPERS[f"{int(key):03d}"]
    for p in PAPERS.values():
        if key in p.aliases:
            return p
    choices = "; ".join(f"{p.number} ({', '.join(p.aliases)})" for p in PAPERS.values())
    raise UsageError("PAPER", name, f"one of {choices}")


def find_specs(paper: Paper, scale: str, specs_dir: Path | None) -> list[Path]:
    """The spec files of ``paper`` at ``scale``; UsageError if the examples directory or a spec is missing."""
    if scale not in SCALES:
        raise UsageError("--scale", scale, " or ".join(SCALES))
    candidates = [specs_dir] if specs_dir else [Path("examples"), Path(__file__).resolve().parents[2] / "examples"]
    base = next((d for d in candidates if d is not None and d.is_dir()), None)
    if base is None:
        where = specs_dir if specs_dir else "./examples or beside the package"
        raise UsageError("--specs", str(where), "a directory holding the repository's examples/*.toml (run from a checkout)")
    paths = [base / f"{name}.toml" for name in getattr(paper, scale)]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise UsageError("--specs", str(base), f"a directory with {', '.join(p.name for p in missing)}")
    return paths


def collect_figures(run_dirs: list[Path], out: Path) -> list[Path]:
    """Copy every run's plots/*.png to ``out`` as ``<run name>__<figure>.png`` (the collection of a second call
    replaces the first's; ``out`` lies in no run directory); the copied paths."""
    from ensemble.store.guard import new_directory

    new_directory(out, "--out", overwrite=True)
    out.mkdir(parents=True, exist_ok=True)
    copied = []
    for d in run_dirs:
        for png in sorted(Layout(d).plots.glob("*.png")):
            target = out / f"{d.name}__{png.name}"
            shutil.copyfile(png, target)
            copied.append(target)
    return copied
