"""How values, labels and figures are shown: one formatter for reports and plot labels, one figure writer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

__all__ = ["caption", "cell", "format_value", "header", "label", "mark_unresolved", "math_label", "missing",
           "symbol", "value_range"]


def format_value(v) -> str:
    """A parameter value as reports and plot labels show it: numbers as %g, strings (e.g. unraveling) as they are,
    the empty string (e.g. the uniform disorder profile) as "" (a legend entry "profile = " would say nothing)."""
    if isinstance(v, bool | np.bool_):
        return str(bool(v)).lower()
    if isinstance(v, str) and not v:
        return '""'
    return f"{v:g}" if isinstance(v, int | float | np.integer | np.floating) else str(v)


#: Greek letters a parameter's name may start with (set as ``\\gamma`` etc.); also what the figure check
#: (:func:`ensemble.present.figstyle.plain_notation`) looks for spelled out in plain text.
GREEK = frozenset({"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "kappa", "lambda", "mu", "nu",
                   "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega", "Gamma", "Delta", "Omega"})


def symbol(name: str) -> str:
    """A parameter's name as mathtext (no dollars): ``W_env`` -> ``W_{\\rm env}``, ``gamma`` -> ``\\gamma``."""
    head, _, sub = name.partition("_")
    head = f"\\{head}" if head in GREEK else head
    return f"{head}_{{\\rm {sub.replace('_', ',')}}}" if sub else head


def is_symbol(name: str) -> bool:
    """Whether a parameter's name is a mathematical symbol (``W``, ``J_int``, ``gamma``, ``n_goe``) rather than a
    word (``unraveling``, ``method``): only symbols are set in math italic."""
    head = name.partition("_")[0]
    return len(head) == 1 or head in GREEK


def math_name(name: str) -> str:
    """A parameter's name for a figure: ``$J_{\\rm int}$`` for a symbol, the word itself otherwise."""
    return f"${symbol(name)}$" if is_symbol(name) else name


def math_names(names: Iterable[str]) -> str:
    """:func:`math_name` of several parameters, comma-separated (a legend's title)."""
    return ", ".join(math_name(k) for k in names)


def label(row: Mapping, names: Iterable[str], empty: str = "all") -> str:
    """``k = v, ...`` of the named parameters of a row, for reports (``empty`` if there are none)."""
    return ", ".join(f"{k} = {format_value(row[k])}" for k in names) or empty


def math_label(row: Mapping, names: Iterable[str], empty: str = "all points", symbols: Mapping | None = None) -> str:
    """:func:`label` for figures: mathtext where the value is a number (``$W_{\\rm env} = 3$``); ``symbols``
    overrides the mathtext of some names (``{"W_e": r"W_{\\rm env}"}``)."""
    parts = []
    symbols = symbols or {}
    for k in names:
        v = row[k]
        number = isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
        sym = symbols.get(k) or (symbol(k) if is_symbol(k) else None)
        if number and sym:
            parts.append(f"${sym} = {format_value(v)}$")
        else:
            parts.append(f"{f'${sym}$' if sym else k} = {format_value(v)}")
    return ", ".join(parts) or empty


def header(names: Iterable[str]) -> str:
    """Fixed-width column heads of swept parameters, one space apart (see :func:`cell`)."""
    return "".join(f" {k:>{max(7, len(k))}}" for k in names)


def cell(row: Mapping, names: Iterable[str]) -> str:
    """Fixed-width cells of the swept values (numbers as %g, strings as they are), one space apart."""
    return "".join(f" {format_value(row[k]):>{max(7, len(k))}}" for k in names)


def missing(row: Mapping, key: str) -> bool:
    """True if a fits row lacks ``key`` or holds NaN/None there (rows of one table differ in their columns)."""
    v = row.get(key) if hasattr(row, "get") else None
    return v is None or (isinstance(v, float | np.floating) and not np.isfinite(v))


def value_range(values: Iterable) -> str:
    """One value as %g; several numbers as ``lo–hi (n values)``; several strings joined by "/"."""
    vals = sorted(set(values), key=lambda v: (isinstance(v, str), v))
    if len(vals) == 1:
        return format_value(vals[0])
    if all(isinstance(v, int | float | np.integer | np.floating) for v in vals):
        return f"{format_value(vals[0])}–{format_value(vals[-1])} ({len(vals)} values)"
    return "/".join(format_value(v) for v in vals)


def caption(exp, summary=None, width: int | None = None) -> str:
    """What a figure of this run shows: spec name, kernel, the parameters the spec sets, the swept ranges, N_r,
    and the version that drew it (the caption beside a figure, and in its file's metadata).

    N_r is read from the summary table's ``n`` column when there is one (what the
    tables hold), else from the spec. One line; ``width`` wraps it at spaces only (never inside a word or a
    hyphenated name such as mbl-ensemble).
    """
    import textwrap

    from ensemble.spec.provenance import package_version

    parts = [f"{k} = {format_value(v)}" for k, v in exp.fixed.items() if k != "times"]
    for k in exp.swept_names:
        values = [pt.swept.get(k, getattr(pt.params, k)) for pt in exp.points]
        parts.append(f"{k} = {value_range(values)}")
    if summary is not None and "n" in summary and len(summary):
        n = summary["n"].dropna()
        parts.append(f"N_r = {value_range(int(v) for v in n.unique())}" if len(n) else "")
    else:
        parts.append(f"N_r = {value_range(pt.realizations for pt in exp.points)}")
    text = f"{exp.name} ({exp.kernel.name}): " + ", ".join(p for p in parts if p) + f"; mbl-ensemble {package_version()}"
    if not width:
        return text
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False))


def mark_unresolved(ax, x, y, status, color, ms: float = 9, labelled: set | None = None) -> None:
    """Draw open markers over the points whose ``status`` is not "resolved" (see :mod:`ensemble.analysis.resolution`):
    a hollow square for "at resolution limit", a hollow diamond for "at range edge". ``labelled`` collects the
    statuses that already have a legend entry (one entry per status per axes)."""
    from ensemble.analysis.resolution import EDGE, LIMIT

    labelled = labelled if labelled is not None else set()
    status = np.asarray(list(status), dtype=object)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    for which, marker in ((LIMIT, "s"), (EDGE, "D")):
        sel = status == which
        if sel.any():
            ax.plot(x[sel], y[sel], marker, ms=ms, mfc="none", mec=color, mew=1.2, ls="none",
                    label=which if which not in labelled else None)  # fmt: skip
            labelled.add(which)
