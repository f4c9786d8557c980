r"""Numbers at the resolution limit of a discretization the user chose: one rule for every derived number.

Every row of a fits table carries ``status``, one of

``resolved``
    the statistical error bar, not a grid, limits the estimate;
``at resolution limit``
    a grid the spec chose (histogram bins, sample times, swept values, the span of a plateau test)
    limits the estimate more than its error bar says: the discretization error (estimated per
    quantity, see below) exceeds the statistical error, or the quantity is smaller than one cell of
    the grid. The number is then a bound or a grid-limited estimate: refine the grid;
``at range edge``
    the estimate sits at the edge of the sampled range (a crossing outside the sweep, a maximum at its
    first or last value, a fit window pushed against the end of the data, a fitted parameter at its
    bound): widen the range;
``undetermined``
    there is no value (too few points to fit).

:func:`classify` is the rule. For values read off a grid by interpolation (a crossing, a maximum), the
discretization error is the change of the estimate when the interpolation goes from linear to
quadratic (:func:`quadratic_crossing`, :func:`quadratic_vertex`), counted where that change exceeds its
own noise (:func:`grid_effect`, from the same jackknife or bootstrap as the estimate);
:func:`worst` combines the statuses of the inputs of a number derived from several others (a fit
across points is no better resolved than its least resolved input). Reports print the status beside
the value (:func:`note`), figures mark it (:func:`ensemble.present.display.mark_unresolved`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

__all__ = [
    "EDGE",
    "LIMIT",
    "RESOLVED",
    "STATUSES",
    "UNDETERMINED",
    "classify",
    "grid_effect",
    "note",
    "quadratic_crossing",
    "quadratic_vertex",
    "worst",
]

RESOLVED = "resolved"
LIMIT = "at resolution limit"
EDGE = "at range edge"
UNDETERMINED = "undetermined"
#: From best to worst (:func:`worst` takes the last that occurs).
STATUSES = (RESOLVED, LIMIT, EDGE, UNDETERMINED)


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def classify(value, err=None, *, edge: bool = False, discretization: float | None = None,
             cell: float | None = None) -> str:  # fmt: skip
    """The status of one derived number (see the module docstring).

    Parameters
    ----------
    value, err : float
        The estimate and its statistical (jackknife or bootstrap) error.
    edge : bool
        The estimate lies at the edge of the sampled range (the caller knows how it was found).
    discretization : float, optional
        The estimated error from the grid (interpolation, binning); it limits the estimate when it
        exceeds ``err`` (or when there is no finite error to compare with).
    cell : float, optional
        For a width or a distance measured from zero on a grid: the grid's cell. A value below two
        cells spans at most one cell plus its interpolated part, so it is a bound, not a measurement.
    """
    if edge:
        return EDGE
    if not _finite(value):
        return UNDETERMINED
    if cell is not None and cell > 0 and abs(float(value)) < 2.0 * cell:
        return LIMIT
    if discretization is not None and discretization > 0:
        if not _finite(err) or discretization > float(err):
            return LIMIT
    return RESOLVED


def worst(statuses: Iterable[str]) -> str:
    """The least resolved of ``statuses`` (RESOLVED for none): a number is no better than its inputs."""
    ranks = [STATUSES.index(s) for s in statuses if s in STATUSES]
    return STATUSES[max(ranks)] if ranks else RESOLVED


def note(status) -> str:
    """What a report prints after a value: nothing when resolved, else ``[at resolution limit]`` etc."""
    return "" if status in (RESOLVED, None) or (isinstance(status, float) and math.isnan(status)) else f" [{status}]"


def grid_effect(delta: float, delta_err: float, nsigma: float = 2.0) -> float:
    """The discretization error shown by ``delta``, the change of an estimate when its interpolation goes from
    linear to quadratic (or from the sampled maximum to a fitted vertex): ``|delta|`` when it is significant
    (more than ``nsigma`` of its own error, from the same jackknife or bootstrap), else 0. A change within the
    noise says nothing about the grid."""
    if not (_finite(delta) and _finite(delta_err)):
        return 0.0
    return abs(float(delta)) if abs(float(delta)) > nsigma * float(delta_err) else 0.0


def quadratic_crossing(x, y, i: int, level: float = 0.0) -> float:
    """The crossing of ``y`` through ``level`` inside [x[i], x[i + 1]] of the parabola through that pair and the
    nearer neighbour (the earlier one where both exist); the linear crossing where there is no neighbour or the
    parabola does not cross inside. Compare with the linear interpolation for :func:`grid_effect`."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float) - level
    lo, hi = float(x[i]), float(x[i + 1])
    linear = lo + (0 - y[i]) / (y[i + 1] - y[i]) * (hi - lo) if y[i + 1] != y[i] else 0.5 * (lo + hi)
    j = i - 1 if i >= 1 else i + 2
    if not 0 <= j < x.size or not np.all(np.isfinite(y[[i, i + 1, j]])):
        return float(linear)
    idx = sorted((i, i + 1, j))
    a, b, c = np.polyfit(x[idx] - lo, y[idx], 2)
    if a == 0:
        roots = [-c / b] if b != 0 else []
    else:
        disc = b * b - 4 * a * c
        roots = [] if disc < 0 else [(-b - math.sqrt(disc)) / (2 * a), (-b + math.sqrt(disc)) / (2 * a)]
    inside = [r + lo for r in roots if -1e-12 * (hi - lo) <= r <= (hi - lo) * (1 + 1e-12)]
    return float(min(inside, key=lambda r: abs(r - linear))) if inside else float(linear)


def quadratic_vertex(x, y) -> float:
    """The vertex of the parabola through the largest sample of ``y(x)`` and its two neighbours (the sampled
    maximum itself at an edge or without curvature)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    i = int(np.nanargmax(y))
    if i == 0 or i == x.size - 1:
        return float(x[i])
    a, b, _ = np.polyfit(x[i - 1 : i + 2], y[i - 1 : i + 2], 2)
    return float(-b / (2 * a)) if a < 0 else float(x[i])
