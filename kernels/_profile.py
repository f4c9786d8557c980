r"""Disorder profiles: per-site widths of the random fields, from one string parameter.

Every kernel whose disorder is a field per site (the trajectory kernels, ``coupled_chains``,
``xxz_bubble``'s chain, the d-bosons of ``boson_impurity`` and ``boson_tebd``) draws site j's field
uniformly in ``[-w_j, w_j]``. Without a profile every ``w_j`` is the kernel's bulk width (``W``, or
``W_s`` / ``W_e`` for the two chains of ``coupled_chains``): today's draws, bit for bit. A profile
sets some sites' widths; it is a string so that a spec can sweep it like any parameter::

    profile = "5..8=0.5"            # a grain: sites 5..8 (inclusive) with w = 0.5
    profile = "1..3=0.5; 10=2"      # several regions, separated by ";"
    profile = "clean 6"             # clean sites (w = 0): "clean 6", "clean 1, 12", "clean 3..4"
    profile = "[8, 8, 0.5, 0.5, W, W]"  # every site's width; W stands for the bulk width

Sites are numbered as on the kernel's ``site`` axis (from 1 for the trajectory kernels and
``coupled_chains``, from 0 for ``xxz_bubble`` and the boson kernels). Regions may not overlap. Sites not named keep the bulk width. The fields are drawn in one call
``rng.uniform(-w, w)`` (one double per site, in site order, the same stream as the uniform draw), so a
site outside the profile gets *the same field* as in the run without it, on the same seed: comparing
profiles is a paired comparison.

The profile is part of the point: its canonical text (regions in site order, ``"5..8=0.5; 10=2"``) goes
into the seeding key and the fingerprint (clean runs as "clean 6", widths in their shortest form), and the empty profile is left out of both (earlier runs keep
their seeds and partials).
"""

from __future__ import annotations

import math
import re

import numpy as np

from kernels._params import MAX_MAGNITUDE, ParameterError

__all__ = ["GRAMMAR", "canonical_profile", "draw_fields", "profile_widths", "describe_profile"]

#: What a profile may be, for error messages.
GRAMMAR = '"" (uniform), regions "5..8=0.5; 10=2", clean sites "clean 6, 9..10", or widths "[8, 0.5, W, ...]"'

#: Most sites a profile may name (a chain this long is beyond every kernel; the bound keeps a hostile range cheap).
MAX_NAMED = 1_000_000

_RANGE = re.compile(r"^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$")


def _fail(text, why: str, field: str):
    raise ParameterError(field, text, f"{why}; a profile is {GRAMMAR}")


def _sites(spec: str, n: int, first: int, text, field: str) -> list[int]:
    """Sites of "6", "3..5" or "1, 3..4", numbered from ``first`` -> 0-based indices."""
    out: list[int] = []
    for part in spec.split(","):
        m = _RANGE.match(part)
        if not m:
            _fail(text, f"{part.strip()!r} is not a site or a range i..j", field)
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) is not None else a
        if a < first or b > n - 1 + first or a > b:
            what = f"site {a}" if a == b else f"sites {a}..{b}"
            _fail(text, f"{what} outside the sites {first}..{n - 1 + first} (or reversed)", field)
        if len(out) + b - a + 1 > MAX_NAMED:
            _fail(text, f"a profile names at most {MAX_NAMED:,} sites", field)
        out.extend(range(a - first, b - first + 1))
    return out


def _width(spec: str, text, field: str) -> float:
    try:
        w = float(spec)
    except ValueError:
        _fail(text, f"width {spec.strip()!r} is not a number", field)
    if not math.isfinite(w) or w < 0 or w > MAX_MAGNITUDE:
        _fail(text, f"width {spec.strip()} must be finite, >= 0 and <= {MAX_MAGNITUDE:g}", field)
    return w + 0.0


def _parse(text: str, n: int, first: int, field: str) -> dict[int, float]:
    """0-based site -> width of the sites a profile over ``n`` sites names (the others keep the bulk width).

    Sparse: a profile costs what its text names, whatever ``n`` (a hostile L is refused by the kernel, not here
    by running out of memory)."""
    widths: dict[int, float] = {}
    s = text.strip()
    if s in ("", "uniform"):
        return widths
    if s.startswith("["):
        if not s.endswith("]"):
            _fail(text, "a list of widths must end with ]", field)
        items = [x.strip() for x in s[1:-1].split(",")]
        if len(items) != n:
            _fail(text, f"a list of widths needs one entry per site ({n}), got {len(items)}", field)
        return {i: _width(x, text, field) for i, x in enumerate(items) if x not in ("W", "w")}
    for entry in s.split(";"):
        entry = entry.strip()
        if not entry:
            _fail(text, "an empty entry between ';'", field)
        if entry.lower().startswith("clean"):
            sites, w = _sites(entry[5:], n, first, text, field), 0.0
        elif "=" in entry:
            where, _, value = entry.partition("=")
            sites, w = _sites(where, n, first, text, field), _width(value, text, field)
        else:
            _fail(text, f"{entry!r} is neither 'sites=width' nor 'clean sites'", field)
        for i in sites:
            if i in widths:
                _fail(text, f"site {i + first} is named twice", field)
            widths[i] = w
    return widths


def _number(w: float) -> str:
    """Shortest round-trip text of a width, without a trailing ".0" (2.0 -> "2", 0.5 -> "0.5")."""
    t = repr(float(w))
    return t[:-2] if t.endswith(".0") else t


def _text(widths: dict[int, float], first: int) -> str:
    """Canonical text: maximal runs of consecutive sites with equal widths, in site order."""
    parts, sites, k = [], sorted(widths), 0
    while k < len(sites):
        i = j = sites[k]
        while k + 1 < len(sites) and sites[k + 1] == j + 1 and widths[sites[k + 1]] == widths[i]:
            k += 1
            j = sites[k]
        where = f"{i + first}" if i == j else f"{i + first}..{j + first}"
        w = widths[i]
        parts.append(f"clean {where}" if w == 0 else f"{where}={_number(w)}")
        k += 1
    return "; ".join(parts)


def canonical_profile(text: object, n_sites: int, first: int = 1, field: str = "profile") -> str:
    """Validate a profile over ``n_sites`` sites numbered from ``first`` (the kernel's site axis: 1 for the
    trajectory kernels and coupled_chains, 0 for xxz_bubble and the boson kernels) and return its canonical
    text ("" for uniform).

    Raises :class:`ParameterError` naming ``field``, the value and the grammar.
    """
    if not isinstance(text, str):
        raise ParameterError(field, text, f"a string: {GRAMMAR}")
    return _text(_parse(text, n_sites, first, field), first)


def profile_widths(text: str, bulk, first: int = 1) -> np.ndarray:
    """Per-site widths, ndarray[float64] of the bulk's length: ``bulk`` (a float per site) where the
    profile names nothing, the profile's width elsewhere."""
    w = np.array(bulk, dtype=float)
    for i, x in _parse(text, w.size, first, "profile").items():
        w[i] = x
    return w


def draw_fields(rng: np.random.Generator, bulk, n_sites: int, text: str, first: int = 1) -> np.ndarray:
    """Fields uniform in [-w_j, w_j] over ``n_sites`` sites, one double per site in site order.

    ``bulk`` is the bulk width (a float) or one per site. With the uniform profile ``""`` and a scalar bulk
    this is the kernels' historical ``rng.uniform(-W, W, size=n)`` itself; with a profile the same stream
    gives every site outside it the same field (checked bit for bit in tests/kernels/test_profile.py).
    """
    if not text and np.ndim(bulk) == 0:
        return rng.uniform(-bulk, bulk, size=n_sites)
    w = profile_widths(text, np.broadcast_to(np.asarray(bulk, dtype=float), (n_sites,)), first)
    return rng.uniform(-w, w)


def describe_profile(text: str) -> str:
    """A caption fragment: "" for uniform, else "disorder profile 5..8=0.5"."""
    return f"disorder profile {text}" if text else ""
