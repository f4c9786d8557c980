"""Compact HTML for notebooks: the ``_repr_html_`` of Run, Status, KernelInfo, Plan and Submission."""

from __future__ import annotations

import html

__all__ = ["MAX_ROWS", "cell_text", "frame_rows", "head_and_rows", "table"]

#: Rows shown before "... N more" (a notebook cell stays short).
MAX_ROWS = 12


def cell_text(v) -> str:
    """A cell as a reader wants it: integers as integers, other numbers to 4 significant digits, missing as
    blank, booleans and text as they are."""
    import math
    from numbers import Integral, Real

    if v is None or (isinstance(v, Real) and not isinstance(v, Integral) and math.isnan(v)):
        return ""
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return str(bool(v)).lower()
    if isinstance(v, Integral):
        return str(int(v))
    if isinstance(v, Real):
        return f"{float(v):.4g}"
    return str(v)


def frame_rows(df) -> list[list]:
    """A DataFrame's rows with each value of its own column's type (``df.values`` would make every number of a
    mixed frame a float: 48 realizations shown as 48.0)."""
    return [list(r) for r in df.itertuples(index=False, name=None)]


def table(header: list[str], rows: list[list], caption: str = "") -> str:
    """An HTML table of at most MAX_ROWS rows (the rest counted in a last row)."""
    esc = html.escape
    out = ["<table>"]
    if caption:
        out.append(f"<caption style='text-align:left'>{esc(caption)}</caption>")
    out.append("<tr>" + "".join(f"<th style='text-align:left'>{esc(str(h))}</th>" for h in header) + "</tr>")
    for row in rows[:MAX_ROWS]:
        out.append("<tr>" + "".join(f"<td style='text-align:left'>{esc(cell_text(c))}</td>" for c in row) + "</tr>")
    if len(rows) > MAX_ROWS:
        out.append(f"<tr><td colspan='{len(header)}'>... {len(rows) - MAX_ROWS} more</td></tr>")
    out.append("</table>")
    return "".join(out)


def head_and_rows(lines: list[str], limit: int = 15) -> str:
    """Text of at most ``limit`` lines (the rest counted)."""
    if len(lines) <= limit:
        return "\n".join(lines)
    return "\n".join(lines[: limit - 1] + [f"  ... {len(lines) - limit + 1} more lines (print() shows all)"])
