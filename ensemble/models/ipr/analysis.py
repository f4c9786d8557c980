r"""Analysis of the bath + LIOMs IPRs (paper 004, Secs. III-V and App. A).

Per point (errors by block jackknife):

* ``crossover``: the slope of D(sigma^x_i) vs i over the LIOMs i = 1..n (Fig. 4),
  against the theory's -2/zeta = 2 log(alpha) (= -0.575 for alpha = 3/4), the
  zeta it implies, and the crossover length l_c of Eq. (16) for both;
* ``hybridization``: the half-width w50 of the probe's hybridization function
  (the |omega| holding half its weight, which for a Lorentzian is its
  half-width w), against the golden rule w = pi g^2 v(2h) with v the
  structure factor of the coupling spin. For a GOE bath v is the normalized
  semicircle of radius R = bandwidth / 2, v(w) = 2 sqrt(R^2 - w^2) / (pi R^2),
  taken at h = 1 (the centre of the LIOM fields); the paper's estimate
  g^2 / xi (App. A) is the same scaling without the prefactor;
* ``ipr_point``: D(O_B) and G, for the fits across points.

Across points (independent runs; errors added in quadrature):

* ``bath_growth``: D(O_B) against the number of LIOMs n_lioms and its discrete slopes,
  against log 2 (Fig. 3), and for a GOE bath beside them ``dD_dos``, the same step of
  log rho(0), the density of states at the centre of the spectrum from the semicircle
  alone (:func:`log_centre_dos`): independent of the eigenstates, it shows how much of
  the steps' dependence on the parity of n the density of states explains;
* ``thermalization``: Delta D(O_B) = D(O_B)|_G - D(O_B)|_{g_probe = 0} against G
  (Fig. 5), for every group of points that differ only in g_probe.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ensemble.analysis.resolution import RESOLVED, classify, worst
from ensemble.spec.seeding import analysis_rng
from ensemble.models.base import groups

__all__ = ["IprAnalysis", "cross_point_rows", "crossover_length", "log_centre_dos", "semicircle"]

def semicircle(omega: float, radius: float) -> float:
    """Normalized semicircle density 2 sqrt(R^2 - w^2) / (pi R^2): the structure factor of a GOE bath spin."""
    return 2.0 * math.sqrt(max(radius * radius - omega * omega, 0.0)) / (math.pi * radius * radius)


def log_centre_dos(n: int, radius: float, h_width: float, rng: np.random.Generator, draws: int = 4000) -> float:
    """E[log rho_n(0)]: the log density of states at energy 0 (per state of the bath) of a GOE bath
    (semicircle of ``radius``, normalized to 1) plus n uncoupled LIOMs with fields
    h_i = 1 + U[-h_width, h_width], averaged over the fields. rho_n(0) = sum over the 2^n LIOM
    configurations s of rho_B(-sum_i s_i h_i), so a step in n adds log 2 when the band is flat; each
    LIOM shifts the bath's band by +-h_i, so an even n keeps a configuration at the band centre and
    an odd n does not (for h_i near 1 and a band of half-width ~2)."""
    signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * n, indexing="ij")).reshape(n, -1).T if n else np.zeros((1, 0))
    h = 1.0 + rng.uniform(-h_width, h_width, size=(draws, n))
    shifts = h @ signs.T  # (draws, 2^n)
    rho = 2.0 * np.sqrt(np.clip(radius * radius - shifts * shifts, 0.0, None)) / (math.pi * radius * radius)
    total = rho.sum(axis=1)
    if np.any(total <= 0.0):  # some field draws leave no configuration inside the band: log 0
        return math.nan
    return float(np.mean(np.log(total)))


def crossover_length(zeta: float, l_b: float) -> float:
    """Eq. (16): l_c = log 2 / (2/zeta - log 2) * l_b; infinite when 2/zeta <= log 2."""
    a = 2.0 / zeta - math.log(2)
    return math.inf if a <= 0 else math.log(2) / a * l_b


class IprAnalysis:
    """Fits of one point of the rmt_bath kernel."""

    derived_axes: dict = {}

    def __init__(self, params):
        self.p = params
        self.labels = [label for label, _ in params.operators()]
        self.liom = [self.labels.index(f"x{i}") for i in range(1, params.n_lioms + 1)]
        self.has_probe = "G" in params.schema()
        if self.has_probe:
            self.omega = params.schema()["hyb"]["omega"]

    def estimators(self, means: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        D = means["D"]
        out = {}
        if len(self.liom) >= 2:
            i = np.arange(1, len(self.liom) + 1, dtype=float)
            ic = i - i.mean()
            Dl = D[..., self.liom]
            out["slope"] = Dl @ (ic / (ic @ ic))
            out["intercept"] = Dl.mean(axis=-1) - out["slope"] * i.mean()
        if self.has_probe:
            out["w50"] = self._half_weight_width(means["hyb"])
        return out

    def _half_weight_width(self, k: np.ndarray) -> np.ndarray:
        """|omega| containing half the weight of the density k (total weight 1), interpolated.

        The symmetric bins are folded into shells [j, j + 1) * width of |omega|
        before the cumulative weight is interpolated within its shell.
        """
        width = self.omega[1] - self.omega[0]
        half = self.omega.size // 2  # hyb_bins is even: bins come in +-omega pairs
        shells = (k[..., half:] + k[..., half - 1 :: -1]) * width  # weight per |omega| shell
        cum = np.cumsum(shells, axis=-1)
        j = np.argmax(cum >= 0.5, axis=-1)
        before = np.where(j > 0, np.take_along_axis(cum, np.maximum(j - 1, 0)[..., None], -1)[..., 0], 0.0)
        inside = np.take_along_axis(shells, j[..., None], -1)[..., 0]
        w = (j + (0.5 - before) / inside) * width
        return np.where(cum[..., -1] >= 0.5, w, np.nan)

    def fit_rows(self, value, sem) -> dict[str, list[dict]]:
        p, rows = self.p, []
        point = {"fit": "ipr_point"}
        if "OB" in self.labels:  # plain means of the kernel's outputs: the summary's numbers and error bars
            i = self.labels.index("OB")
            point["D_OB"], point["D_OB_err"] = float(value["D"][i]), float(sem["D"][i])
        if self.has_probe:
            point["G"], point["G_err"] = float(value["G"]), float(sem["G"])
        point["status"] = RESOLVED
        rows.append(point)
        if "slope" in value:
            zeta = 1 / math.log(1 / p.alpha) if p.alpha < 1 else math.inf
            predicted = -2.0 / zeta
            slope, err = float(value["slope"]), float(sem["slope"])
            zeta_eff = -2.0 / slope if slope < 0 else math.inf
            rows.append(
                {
                    "fit": "crossover",
                    "slope": slope,
                    "slope_err": err,
                    "intercept": float(value["intercept"]),
                    "intercept_err": float(sem["intercept"]),
                    "slope_theory": predicted,
                    "slope_z": (slope - predicted) / err if err > 0 else math.nan,
                    "zeta": zeta,
                    "zeta_eff": zeta_eff,
                    "l_c_theory": crossover_length(zeta, p.l_b),
                    "l_c_eff": crossover_length(zeta_eff, p.l_b),
                    "status": classify(slope, err),
                }
            )
        if self.has_probe:
            g = p.couplings()[-1]
            goe = p.bath == "goe"
            w50, bin_width = float(value["w50"]), float(self.omega[1] - self.omega[0])
            rows.append(
                {
                    "fit": "hybridization",
                    "w50": w50,
                    "w50_err": float(sem["w50"]),
                    "bin_width": bin_width,
                    # a half-weight width under two bins is set by the binning the spec chose (hyb_bins,
                    # hyb_range), not by the data: a bound, however small its error bar
                    "status": classify(w50, float(sem["w50"]), cell=bin_width),
                    "g_last": g,
                    "w_golden_rule": math.pi * g * g * semicircle(2.0, p.bandwidth / 2) if goe else math.nan,
                    "w_g2_over_xi": g * g / p.bandwidth if goe else math.nan,
                }
            )
        return {"fits": rows}


def cross_point_rows(fits: pd.DataFrame, params: list[str], seed: int = 0) -> list[dict]:
    """Fig. 3's growth of D(O_B) with the LIOMs and Fig. 5's Delta D(O_B) against G."""
    pts = fits[fits["fit"] == "ipr_point"]
    if "D_OB" not in pts:
        return []
    return _bath_growth(pts, params, seed) + _thermalization(pts, params)


def _bath_growth(pts: pd.DataFrame, params: list[str], seed: int) -> list[dict]:
    rows = []
    for group, g in groups(pts, params, ("n_lioms",)):
        g = g.sort_values("n_lioms")
        dos = {}
        if group.get("bath", "goe") == "goe" and {"bandwidth", "l_b", "h_width"} <= set(g.columns):
            first = g.iloc[0]
            width = first["spacing"] * 2.0 ** first["l_b"] if first.get("spacing", 0.0) > 0 else first["bandwidth"]
            rng = analysis_rng(seed, "dos_estimate")
            dos = {int(n): log_centre_dos(int(n), width / 2.0, float(first["h_width"]), rng) for n in g.n_lioms}
        for a, b in zip(g.itertuples(), g.iloc[1:].itertuples()):
            step = b.n_lioms - a.n_lioms
            rows.append(
                {
                    **group,
                    "fit": "bath_growth",
                    "n_from": int(a.n_lioms),
                    "n_to": int(b.n_lioms),
                    "dD_per_liom": (b.D_OB - a.D_OB) / step,
                    "dD_per_liom_err": math.hypot(a.D_OB_err, b.D_OB_err) / step,
                    "log2": math.log(2),
                    "dD_dos": (dos[int(b.n_lioms)] - dos[int(a.n_lioms)]) / step if dos else math.nan,
                    "status": worst([a.status, b.status]) if hasattr(a, "status") else RESOLVED,
                }
            )
    return rows


def _thermalization(pts: pd.DataFrame, params: list[str]) -> list[dict]:
    rows = []
    if "G" not in pts:
        return rows
    for group, g in groups(pts, params, ("g_probe",)):
        ref = g[g["g_probe"] == 0.0]
        if ref.empty:
            continue
        r = ref.iloc[0]
        for q in g[g["g_probe"] != 0.0].sort_values("g_probe").itertuples():
            rows.append(
                {
                    **group,
                    "g_probe": q.g_probe,
                    "fit": "thermalization",
                    "G": q.G,
                    "G_err": q.G_err,
                    "delta_D": q.D_OB - r.D_OB,
                    "delta_D_err": math.hypot(q.D_OB_err, r.D_OB_err),
                    "log2": math.log(2),
                    "status": worst([q.status, r.status]) if hasattr(q, "status") else RESOLVED,
                }
            )
    return rows
