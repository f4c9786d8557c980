"""An ergodic grain inside a localized chain: run examples/ergodic_grain.toml and draw its figure.

    python3 examples/ergodic_grain.py [--run runs/ergodic_grain] [--out examples/figures] [--executor local]

Runs the spec into ``--run`` (or reads it when it is already there: a finished run is not recomputed) and
writes ``ergodic_grain.png`` with its caption: (a) the mean one-site purity gamma_i of mid-spectrum
eigenstates per site, one curve per grain size g; (b) 1 - gamma_i against the distance from the grain's edge
on a log scale; (c) the mean gap ratio against g, between the Poisson and GOE values. Prints the numbers it
draws. docs/papers/grain.md shows the figure and what it says.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import ensemble
from kernels.numerics.levels import R_GOE, R_POISSON

HERE = Path(__file__).resolve().parent
SPEC = HERE / "ergodic_grain.toml"


def grain_size(profile: str) -> int:
    """Sites in the grain of a canonical profile "0..g-1=0.5" ("" is no grain)."""
    if not profile:
        return 0
    sites = profile.split("=")[0]
    lo, _, hi = sites.partition("..")
    return int(hi or lo) - int(lo) + 1


def numbers(run) -> tuple[dict, dict]:
    """Per grain size: (site, mean gamma, sem) and (mean r, sem), from the summary table."""
    s = run.summary
    gam, r = {}, {}
    for profile, rows in s.groupby("profile", sort=False):
        g = grain_size(profile)
        gg = rows[rows.observable == "gamma"].sort_values("site")
        gam[g] = (gg.site.to_numpy(int), gg["mean"].to_numpy(), gg["sem"].to_numpy())
        rr = rows[rows.observable == "r"]
        r[g] = (float(rr["mean"].iloc[0]), float(rr["sem"].iloc[0]))
    return dict(sorted(gam.items())), dict(sorted(r.items()))


def figure(run, gam: dict, r: dict):
    import matplotlib.pyplot as plt

    from ensemble.present.display import caption
    from ensemble.present.figstyle import finish, style
    from ensemble.store.runs import as_tabled

    with style():
        fig, (a, b, c) = plt.subplots(1, 3, figsize=(7.0, 2.5))
        colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(gam)))
        for colour, (g, (site, m, e)) in zip(colours, gam.items()):
            name = "no grain" if g == 0 else f"$g = {g}$"
            a.errorbar(site, m, e, color=colour, marker="o", ms=3, capsize=1.5, label=name)
            if g:
                a.axvspan(-0.5, g - 0.5, color=colour, alpha=0.08, lw=0)
            d = site - (g - 1) if g else site + 1  # distance from the grain's last site (from the edge: site + 1)
            keep = d >= 1
            b.errorbar(d[keep], 1.0 - m[keep], e[keep], color=colour, marker="o", ms=3, capsize=1.5, label=name)
        a.set_xlabel(r"site $i$")
        a.set_ylabel(r"purity $\gamma_i = \mathrm{Tr}\,\rho_i^2$")
        a.axhline(0.5, color="0.6", lw=0.8, ls=":")
        a.legend(fontsize=6, ncol=1, loc="lower right")
        b.set_yscale("log")
        b.set_xlabel(r"distance $d$ from the grain")
        b.set_ylabel(r"$1 - \gamma_i$")
        gs = np.array(list(r))
        rm = np.array([v[0] for v in r.values()])
        re = np.array([v[1] for v in r.values()])
        c.errorbar(gs, rm, re, color="k", marker="o", ms=3, capsize=1.5)
        c.axhline(R_POISSON, color="tab:blue", ls="--", lw=0.8, label="Poisson")
        c.axhline(R_GOE, color="tab:red", ls="--", lw=0.8, label="GOE")
        c.set_xlabel(r"grain size $g$ (sites)")
        c.set_ylabel(r"mean gap ratio $\langle r\rangle$")
        c.legend(fontsize=6, loc="center right")
        finish(fig, caption(as_tabled(run.path, run.spec), run.summary)
               + ". Grain: sites 0..g-1 with w = 0.5 inside W = 6; (a) purities per site (grain shaded),"
               " (b) 1 - purity against the distance from the grain, (c) gap ratio of the 50 central levels.")
    return fig


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("runs/ergodic_grain"))
    ap.add_argument("--out", type=Path, default=HERE / "figures")
    ap.add_argument("--executor", default="local")
    a = ap.parse_args(argv)
    if (a.run / "run.json").exists():
        run = ensemble.open_run(a.run)
    else:
        run = ensemble.run(SPEC, out=a.run, executor=a.executor)
    gam, r = numbers(run)
    for g, (site, m, e) in gam.items():
        print(f"g = {g}: <r> = {r[g][0]:.4f} +- {r[g][1]:.4f}; gamma_i = " + " ".join(f"{x:.3f}" for x in m))
    from ensemble.present.figstyle import save

    fig = figure(run, gam, r)
    for p in save({"ergodic_grain": fig}, a.out, ("png",), spec_text=SPEC.read_text()):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
