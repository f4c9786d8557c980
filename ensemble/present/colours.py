"""Curves coloured by a swept parameter: a legend that names each value while there are few, a labelled colour
bar in a column of its own when there are many (the figure's layout keeps it beside the panels, over none)."""

from __future__ import annotations

import numpy as np

from ensemble.present.display import math_label, math_name

__all__ = ["MAX_LEGEND", "Colouring", "panel_grid"]

#: Curves per panel named in a legend; beyond, a colour bar.
MAX_LEGEND = 8


class Colouring:
    """The colour and the legend label of each value of parameter ``name`` (``values``: every value drawn)."""

    def __init__(self, plt, name: str | None, values):
        self.name = name
        self.values = sorted(set(values)) if name is not None else []
        numeric = all(isinstance(v, int | float | np.integer | np.floating) for v in self.values)
        self.bar = bool(numeric and len(self.values) > MAX_LEGEND)
        self.cmap = plt.cm.viridis
        self.norm = plt.Normalize(min(self.values), max(self.values)) if self.bar else None
        self._plt = plt

    def color(self, value):
        if self.bar:
            return self.cmap(self.norm(value))
        return f"C{self.values.index(value) % 10}" if self.name is not None else "C0"

    def label(self, value) -> str | None:
        """The legend entry of ``value`` (None when the colour bar names it)."""
        if self.bar or self.name is None:
            return None
        return math_label({self.name: value}, [self.name])

    def add_bar(self, fig, cax) -> None:
        """The colour bar, labelled with the parameter, into ``cax`` (the grid's last column)."""
        if not self.bar:
            return
        fig.colorbar(self._plt.cm.ScalarMappable(cmap=self.cmap, norm=self.norm), cax=cax, label=math_name(self.name))
        cax.set_label("<colorbar>")


def panel_grid(plt, n: int, bar: bool, ncols: int = 2, width: float = 7.0, height: float = 3.4, sharey=True):
    """``n`` panels in rows of at most ``ncols`` (and a narrow last column for a colour bar if ``bar``): the figure,
    the panels (a list, in reading order; unused cells hidden) and the colour bar's axes (None without)."""
    ncols = max(1, min(n, ncols))
    nrows = -(-n // ncols)
    fig = plt.figure(figsize=(width if ncols > 1 else 6.0, height * nrows + (0.8 if nrows == 1 else 0.0)))
    grid = fig.add_gridspec(nrows, ncols + bar, width_ratios=[1] * ncols + [0.05] * bar)
    axes = []
    for k in range(nrows * ncols):
        i, j = divmod(k, ncols)
        ax = fig.add_subplot(grid[i, j], sharey=axes[0] if (axes and sharey) else None)
        if k >= n:
            ax.set_visible(False)
        axes.append(ax)
    cax = fig.add_subplot(grid[:, -1]) if bar else None
    return fig, axes[:n], cax
