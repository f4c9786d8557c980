r"""Distributions, not only means: histograms, quantiles and typical values, streamed like the moments.

A spec's ``[distributions]`` section names observables of the kernel::

    [distributions]
    gamma = { pool = ["site"] }                  # P(gamma) over realizations and sites, the kernel's range
    M_window = { bins = 40, range = [-1.0, 1.0] }
    F_window = { typical = true }                # exp(mean log|F|) as well

For each, every realization contributes (in the worker, before averaging):

* ``hist:<name>``: the fraction of its values (over the pooled axes) in each
  of ``bins`` equal bins of ``range``, plus the fractions below and above it;
* ``log:<name>``: the mean over the pooled axes of log|value| (with ``typical``).

These are averaged per block with the same Welford/Chan reductions as every
observable, so they are exact under extension and bit-identical whatever the
batching. The summary then has, per kept coordinate:

* ``<name>.hist`` (axis ``bin``, the bin centre): the density, mean fraction / width;
* ``<name>.outside``: the fraction outside ``range``;
* ``<name>.q25``, ``<name>.median``, ``<name>.q75``: quantiles from the
  histogram's cumulative distribution (linear within a bin), with jackknife errors;
* ``<name>.typical``: exp(mean log|value|), with its jackknife error.

A kernel may declare default ranges (``DISTRIBUTIONS = {"gamma": (0.5, 1.0)}``)
and histograms it makes itself within a realization (``HISTOGRAMS =
{"mag_hist": "m"}``: the output is a density over axis ``m``), whose quantiles
are derived the same way.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from numbers import Integral, Real

import numpy as np

from ensemble.errors import SpecError

__all__ = ["DEFAULT_BINS", "QUANTILES", "Distribution", "derived_observables", "parse_distributions", "quantile_rows"]

DEFAULT_BINS = 50
#: Quantiles reported for every histogram: name -> probability.
QUANTILES = {"q25": 0.25, "median": 0.5, "q75": 0.75}
KEYS = ("bins", "range", "pool", "typical")


@dataclass(frozen=True)
class Distribution:
    """One observable's distribution, as a spec asked for it."""

    name: str
    lo: float
    hi: float
    bins: int
    pool: tuple[str, ...]
    typical: bool

    @property
    def edges(self) -> np.ndarray:
        return np.linspace(self.lo, self.hi, self.bins + 1)

    @property
    def centres(self) -> np.ndarray:
        e = self.edges
        return 0.5 * (e[1:] + e[:-1])


def parse_distributions(table: object, kernel, params) -> tuple[Distribution, ...]:
    """Validate ``[distributions]`` against the kernel's observables (at ``params``) and declared ranges."""
    if table is None:
        return ()
    if not isinstance(table, dict):
        raise SpecError("distributions", table, "a table of observable = { bins, range, pool, typical }")
    schema = kernel.schema(params)
    declared = kernel.distributions
    out = []
    for name, opts in table.items():
        field = f"distributions.{name}"
        if name not in schema:
            raise SpecError(field, opts, f"an observable of {kernel.name}: {', '.join(schema)}")
        if not isinstance(opts, dict):
            raise SpecError(field, opts, "a table such as { bins = 40, range = [0.0, 1.0] } (or {} for the defaults)")
        for k in opts:
            if k not in KEYS:
                raise SpecError(f"{field}.{k}", opts[k], f"one of {', '.join(KEYS)}")
        axes = list(schema[name])
        lo, hi = _range(field, opts.get("range", declared.get(name)))
        bins = opts.get("bins", DEFAULT_BINS)
        if isinstance(bins, bool) or not isinstance(bins, Integral) or not 2 <= bins <= 10_000:
            raise SpecError(f"{field}.bins", bins, "an integer from 2 to 10000")
        pool = opts.get("pool", [])
        pool = axes if pool is True else pool
        if not isinstance(pool, list) or any(a not in axes for a in pool):
            raise SpecError(f"{field}.pool", pool, f"a list of {name}'s axes ({', '.join(axes) or 'none: a scalar'}), or true for all")
        typical = opts.get("typical", False)
        if not isinstance(typical, bool):
            raise SpecError(f"{field}.typical", typical, "true or false")
        out.append(Distribution(name, lo, hi, int(bins), tuple(a for a in axes if a in pool), typical))
    return tuple(out)


def _range(field: str, r: object) -> tuple[float, float]:
    ok = isinstance(r, list | tuple) and len(r) == 2 and all(isinstance(x, Real) and not isinstance(x, bool)
                                                                and math.isfinite(x) for x in r) and r[0] < r[1]  # fmt: skip
    if not ok:
        raise SpecError(f"{field}.range", r, "[lo, hi] with lo < hi (the kernel declares no default range for it)")
    return float(r[0]), float(r[1])


def digest(dists: tuple[Distribution, ...]) -> str:
    """A short hash of the distributions asked for (partials are bound to it)."""
    return hashlib.sha256(json.dumps([asdict(d) for d in dists], sort_keys=True).encode()).hexdigest()[:16]


def to_dict(dists: tuple[Distribution, ...]) -> dict:
    return {d.name: {"bins": d.bins, "range": [d.lo, d.hi], "pool": list(d.pool), "typical": d.typical} for d in dists}


def schema(dists: tuple[Distribution, ...], kernel_schema: Mapping[str, dict]) -> dict[str, dict]:
    """Axes of the per-realization arrays the distributions add (``hist:`` with a ``bin`` axis, ``log:``)."""
    out = {}
    for d in dists:
        kept = {a: c for a, c in kernel_schema[d.name].items() if a not in d.pool}
        out[f"hist:{d.name}"] = {**kept, "bin": np.arange(d.bins + 2)}
        if d.typical:
            out[f"log:{d.name}"] = kept
    return out


def derived_observables(dists: tuple[Distribution, ...], obs: Mapping[str, np.ndarray], kernel_schema) -> dict[str, np.ndarray]:
    """The per-realization arrays of the distributions, from one realization's outputs."""
    out = {}
    for d in dists:
        axes = list(kernel_schema[d.name])
        x = np.asarray(obs[d.name], dtype=float)
        pooled = tuple(axes.index(a) for a in d.pool)
        kept = [i for i in range(x.ndim) if i not in pooled]
        x = np.moveaxis(x, kept + list(pooled), range(x.ndim)).reshape([x.shape[i] for i in kept] + [-1])
        # cell 0: below the range, 1..bins: the bins (the last one closed, as numpy's), bins + 1: above
        scaled = np.floor((x - d.lo) / (d.hi - d.lo) * d.bins)
        idx = np.where(x == d.hi, d.bins, np.clip(scaled, -1, d.bins).astype(np.int64) + 1)
        onehot = idx[..., None] == np.arange(d.bins + 2)  # (kept..., pooled, cells)
        out[f"hist:{d.name}"] = onehot.mean(axis=-2)
        if d.typical:
            with np.errstate(divide="ignore"):
                out[f"log:{d.name}"] = np.log(np.abs(x)).mean(axis=-1)
    return out


def quantiles_from_density(fractions: np.ndarray, edges: np.ndarray, probs) -> np.ndarray:
    """Quantiles of a histogram (fractions per bin over the leading axes, plus below/above cells), linear in each bin.

    ``fractions[..., 0]`` is the fraction below the range and ``[..., -1]`` above. NaN where the
    quantile lies outside the range. Broadcasts over leading axes. Returns shape (..., len(probs)).
    """
    inside = fractions[..., 1:-1]
    below = fractions[..., 0]
    cdf = below[..., None] + np.cumsum(inside, axis=-1)  # CDF at the bins' upper edges
    total = fractions.sum(axis=-1)
    out = []
    for p in probs:
        target = p * total
        j = np.argmax(cdf >= target[..., None], axis=-1)
        reached = np.take_along_axis(cdf, j[..., None], -1)[..., 0] >= target
        prev = np.where(j > 0, np.take_along_axis(cdf, np.maximum(j - 1, 0)[..., None], -1)[..., 0], below)
        w = np.take_along_axis(inside, j[..., None], -1)[..., 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(w > 0, (target - prev) / w, 0.5)
        q = edges[j] + frac * (edges[1] - edges[0])
        out.append(np.where(reached & (target >= below), q, np.nan))
    return np.stack(out, axis=-1)


def estimators(dists: tuple[Distribution, ...], kernel_histograms: Mapping[str, tuple[np.ndarray, int]]):
    """The jackknife estimators of the distributions' derived rows: quantiles, outside fraction, typical value.

    ``kernel_histograms``: output name -> (bin edges, axis index of the bins) for histograms the kernel makes.
    """

    def f(means: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for d in dists:
            h = means[f"hist:{d.name}"]
            q = quantiles_from_density(h, d.edges, QUANTILES.values())
            for k, (name, _) in enumerate(QUANTILES.items()):
                out[f"{d.name}.{name}"] = q[..., k]
            out[f"{d.name}.outside"] = h[..., 0] + h[..., -1]
            if d.typical:
                out[f"{d.name}.typical"] = np.exp(means[f"log:{d.name}"])
        for name, (edges, axis) in kernel_histograms.items():
            density = np.moveaxis(means[name], axis, -1)
            width = np.diff(edges)
            fractions = density * width
            padded = np.concatenate([np.zeros(fractions.shape[:-1] + (1,)), fractions, np.zeros(fractions.shape[:-1] + (1,))], axis=-1)
            q = quantiles_from_density(padded, edges, QUANTILES.values())
            for k, qname in enumerate(QUANTILES):
                out[f"{name}.{qname}"] = q[..., k]
        return out

    return f


def quantile_rows(dists, kernel_histograms, kernel_schema) -> dict[str, tuple[str, ...]]:
    """Axes of every derived row the estimators give (for the summary table)."""
    axes = {}
    for d in dists:
        kept = tuple(a for a in kernel_schema[d.name] if a not in d.pool)
        for name in (*QUANTILES, "outside"):
            axes[f"{d.name}.{name}"] = kept
        if d.typical:
            axes[f"{d.name}.typical"] = kept
    for name, (_, axis) in kernel_histograms.items():
        names = list(kernel_schema[name])
        kept = tuple(a for i, a in enumerate(names) if i != axis % len(names))
        for qname in QUANTILES:
            axes[f"{name}.{qname}"] = kept
    return axes
