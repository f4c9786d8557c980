"""Compact HTML for notebooks: the ``_repr_html_`` of Run, Status, KernelInfo, Plan and Submission."""

from __future__ import annotations

import html

__all__ = ["MAX_ROWS", "head_and_rows", "table"]

#: Rows shown before "... N more" (a notebook cell stays short).
MAX_ROWS = 12


def table(header: list[str], rows: list[list], caption: str = "") -> str:
    """An HTML table of at most MAX_ROWS rows (the rest counted in a last row)."""
    esc = html.escape
    out = ["<table>"]
    if caption:
        out.append(f"<caption style='text-align:left'>{esc(caption)}</caption>")
    out.append("<tr>" + "".join(f"<th style='text-align:left'>{esc(str(h))}</th>" for h in header) + "</tr>")
    for row in rows[:MAX_ROWS]:
        out.append("<tr>" + "".join(f"<td style='text-align:left'>{esc(str(c))}</td>" for c in row) + "</tr>")
    if len(rows) > MAX_ROWS:
        out.append(f"<tr><td colspan='{len(header)}'>... {len(rows) - MAX_ROWS} more</td></tr>")
    out.append("</table>")
    return "".join(out)


def head_and_rows(lines: list[str], limit: int = 15) -> str:
    """Text of at most ``limit`` lines (the rest counted)."""
    if len(lines) <= limit:
        return "\n".join(lines)
    return "\n".join(lines[: limit - 1] + [f"  ... {len(lines) - limit + 1} more lines (print() shows all)"])
