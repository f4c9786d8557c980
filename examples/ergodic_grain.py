"""An ergodic grain inside a localized chain: run examples/ergodic_grain.toml and draw its figure.

    python3 examples/ergodic_grain.py [--run runs/ergodic_grain] [--out examples/figures] [--executor local]

Runs the spec into ``--run`` (or reads it when it is already there: a finished run is not recomputed) and
writes ``ergodic_grain.png`` with its caption: (a) the mean one-site purity gamma_i of mid-spectrum
eigenstates per site, one curve per grain size g; (b) the purity the grain takes from each site outside it (gamma_i without the grain minus with it, paired
points) against the distance from the grain, on a log scale; (c) the mean gap ratio against g, between the Poisson and GOE values. Prints the numbers it
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
        from matplotlib.ticker import MaxNLocator

        fig, (a, b, c) = plt.subplots(1, 3, figsize=(7.0, 2.6))
        colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(gam)))
        _, m0, e0 = gam[0]
        for colour, (g, (site, m, e)) in zip(colours, gam.items()):
            name = "no grain" if g == 0 else f"$g = {g}$"
            a.errorbar(site, m, e, color=colour, marker="o", ms=3, capsize=1.5, label=name)
            if g:
                a.axvspan(-0.5, g - 0.5, color=colour, alpha=0.08, lw=0)
                out = site >= g  # outside the grain: how much purity the grain took, against the same chain without it
                d, dm, de = site[out] - (g - 1), m0[out] - m[out], np.hypot(e0[out], e[out])
                keep = dm > 0
                b.errorbar(d[keep], dm[keep], de[keep], color=colour, marker="o", ms=3, capsize=1.5)
        a.set_xlabel(r"site $i$")
        a.set_ylabel(r"purity $\gamma_i = \mathrm{Tr}\,\rho_i^2$")
        a.axhline(0.5, color="0.6", lw=0.8, ls=":")
        b.set_yscale("log")
        b.set_xlabel(r"distance $d = i - g + 1$ from the grain")
        b.set_ylabel(r"$\gamma_i^{\rm no\ grain} - \gamma_i$")
        b.xaxis.set_major_locator(MaxNLocator(integer=True))
        gs = np.array(list(r))
        rm = np.array([v[0] for v in r.values()])
        re = np.array([v[1] for v in r.values()])
        c.errorbar(gs, rm, re, color="k", marker="o", ms=3, capsize=1.5)
        c.axhline(R_POISSON, color="tab:blue", ls="--", lw=0.8, label="Poisson")
        c.axhline(R_GOE, color="tab:red", ls="--", lw=0.8, label="GOE")
        c.set_xlabel(r"grain size $g$ (sites)")
        c.set_ylabel(r"mean gap ratio $\langle r\rangle$")
        c.xaxis.set_major_locator(MaxNLocator(integer=True))
        c.legend(fontsize=6, loc="center right")
        fig.legend(*a.get_legend_handles_labels(), fontsize=7, ncol=len(gam), frameon=False)
        finish(fig, caption(as_tabled(run.path, run.spec), run.summary)
               + ". Grain: sites 0..g-1 with w = 0.5 inside W = 6 (the same fields elsewhere: paired points);"
               " (a) purities per site of the 50 central eigenstates (grain shaded), (b) the purity the grain takes"
               " from each site outside it, against the same chain without the grain (error bars add the two"
               " standard errors, an upper bound for paired points; differences <= 0 not drawn), (c) gap ratio.")
    return fig


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("runs/ergodic_grain"))
    ap.add_argument("--out", type=Path, default=HERE / "figures")
    ap.add_argument("--executor", default="local")
    ap.add_argument("--table", type=Path, help="also write the numbers as a markdown table (docs/papers/grain-numbers.md)")
    a = ap.parse_args(argv)
    if (a.run / "run.json").exists():
        run = ensemble.open_run(a.run)
    else:
        run = ensemble.run(SPEC, out=a.run, executor=a.executor)
    gam, r = numbers(run)
    rows = ["<!-- generated by examples/ergodic_grain.py --table: do not edit -->", "",
            "| grain g | <r> | gamma_i, i = 0 ... 11 (± 0.003–0.009) |", "|---:|---:|---|"]  # fmt: skip
    for g, (site, m, e) in gam.items():
        print(f"g = {g}: <r> = {r[g][0]:.4f} +- {r[g][1]:.4f}; gamma_i = " + " ".join(f"{x:.3f}" for x in m))
        rows.append(f"| {g} | {r[g][0]:.4f} ± {r[g][1]:.4f} | " + " ".join(f"{x:.3f}" for x in m) + " |")
    sems = np.concatenate([e for _, _, e in gam.values()])
    rows[2] = rows[2].replace("0.003–0.009", f"{sems.min():.3f}–{sems.max():.3f}")
    if a.table:
        a.table.write_text("\n".join(rows) + "\n")
    from ensemble.present.figstyle import save

    fig = figure(run, gam, r)
    for p in save({"ergodic_grain": fig}, a.out, ("png",), spec_text=SPEC.read_text()):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
