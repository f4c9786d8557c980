"""Figures for a journal: the project's style, column sizes, panel letters, fonts at print size, captions and
provenance in the files' metadata instead of a title.

Every model's figures go through :func:`finish` (called by ``Model.figures``): the figure is resized to a
journal column (single 3.4 in, double 7 in; by default double when it has panels side by side), fonts below
7 pt at that size are raised to 7 pt, panels get letters (a), (b), ..., and the caption (spec, kernel,
parameters, N_r, version) is attached to the figure, not drawn on it. :func:`save` writes PNG, PDF or SVG with
the caption and the spec in the file's metadata.
"""

from __future__ import annotations

import contextlib
import re
import string
from pathlib import Path
from typing import Any, NamedTuple

from ensemble.present.display import GREEK

__all__ = ["COLUMN_WIDTHS", "DEFAULT_STYLE", "FORMATS", "MIN_FONT_PT", "Captioned", "check_formats", "check_style", "draw",
           "finish", "metadata", "save", "style"]  # fmt: skip

#: The project's default style (one file).
DEFAULT_STYLE = Path(__file__).with_name("style") / "ensemble.mplstyle"
#: Journal column widths, inches (APS/Nature-like: single 3.4, double 7.0).
COLUMN_WIDTHS = {"single": 3.4, "double": 7.0}
#: No text smaller than this at print size.
MIN_FONT_PT = 7.0
FORMATS = ("png", "pdf", "svg")
#: Longest figure-level title allowed (a short phrase; the provenance goes to the caption).
MAX_SUPTITLE = 60


class Captioned(NamedTuple):
    """A figure and its caption (what :meth:`ensemble.api.Run.figures` returns per name). Attributes of the
    matplotlib Figure (``savefig``, ``axes``, ...) are reachable on it directly."""

    figure: Any
    caption: str

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.figure, name)


def check_style(user: str | None) -> None:
    """UsageError unless ``user`` is None, a matplotlib style name, or a readable ``.mplstyle`` file whose every line
    matplotlib accepts (a style file it would warn about, or cannot read, is refused before anything is drawn)."""
    import warnings

    import matplotlib
    import matplotlib.pyplot as plt

    from ensemble.errors import UsageError

    if user is None or user in plt.style.available:
        return
    allowed = f"a matplotlib style ({', '.join(sorted(plt.style.available)[:6])}, ...) or a .mplstyle file"
    path = Path(user)
    if not path.is_file():
        raise UsageError("style", user, allowed)
    try:
        path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError("style", user, f"{allowed}: this file is not readable text ({type(e).__name__})") from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            rc = matplotlib.rc_params_from_file(str(path), fail_on_error=True, use_default_template=False)
            with plt.style.context([str(path)]):
                pass
        except Exception as e:
            raise UsageError("style", user, f"{allowed}: matplotlib cannot use it ({' '.join(str(e).split())})") from None
    if caught:
        raise UsageError("style", user, f"{allowed} that matplotlib reads without complaint; it says: "
                         f"{' '.join(str(caught[0].message).split())[:200]}")  # fmt: skip
    if not len(rc):
        raise UsageError("style", user, f"{allowed} with at least one setting (key: value)")


@contextlib.contextmanager
def style(user: str | None = None):
    """The project's style, and a user's (a matplotlib style name or file, :func:`check_style`) on top of it."""
    import matplotlib.pyplot as plt

    check_style(user)
    styles = [str(DEFAULT_STYLE)] + ([user] if user else [])
    with plt.style.context(styles):
        yield


def check_formats(formats) -> tuple[str, ...]:
    """The figure formats asked for (a comma-separated string or a sequence), checked: UsageError if none or an
    unknown one."""
    from ensemble.errors import UsageError

    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out = tuple(dict.fromkeys(str(f).strip().lower() for f in items if str(f).strip()))
    bad = [f for f in out if f not in FORMATS]
    if not out or bad:
        raise UsageError("format", ",".join(bad) if bad else formats, f"one or more of {', '.join(FORMATS)}, "
                         "comma-separated (e.g. png,pdf)")  # fmt: skip
    return out


_style_context = style  # for draw(), whose ``style`` argument shadows the name


def _panels(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>" and ax.get_subplotspec() is not None]


def finish(fig, caption: str, size: str | None = None) -> None:
    """Make ``fig`` print-ready in place (see the module docstring); ``size``: "single", "double" or None (the
    figure's own layout decides: double if any row has more than one panel)."""
    panels = _panels(fig)
    if size is None:
        cols = max((ax.get_subplotspec().get_geometry()[1] for ax in panels), default=1)
        size = "double" if cols > 1 else "single"
    if size not in COLUMN_WIDTHS:
        from ensemble.errors import UsageError

        raise UsageError("size", size, "single (3.4 in) or double (7 in)")
    w, h = fig.get_size_inches()
    width = COLUMN_WIDTHS[size]
    fig.set_size_inches(width, max(width * h / w, 1.6))
    if fig._suptitle is not None and len(fig._suptitle.get_text()) > MAX_SUPTITLE:
        fig._suptitle.set_text("")  # a long title is provenance: the caption has it
    linear = []
    for ax in fig.axes:  # a log axis with nothing positive on it cannot be drawn: linear, said in the caption
        for axis, (lo, hi) in (("x", ax.dataLim.intervalx), ("y", ax.dataLim.intervaly)):
            if getattr(ax, f"get_{axis}scale")() == "log" and not (hi > 0):
                getattr(ax, f"set_{axis}scale")("linear")
                linear.append(axis)
    if linear:  # never written across the axes, where it would hide data
        caption += f" ({' and '.join(sorted(set(linear)))} axis linear: no positive values to draw on a log scale)"
    for text in texts(fig):
        if text.get_fontsize() < MIN_FONT_PT:
            text.set_fontsize(MIN_FONT_PT)
    for ax in fig.axes:
        ax.tick_params(axis="both", which="both", labelsize=MIN_FONT_PT)
    if len(panels) > 1:
        for letter, ax in zip(string.ascii_lowercase, panels):
            ax.text(-0.02, 1.02, f"({letter})", transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
                    fontweight="bold", gid="panel-letter")  # fmt: skip
    fig.ensemble_size = size
    with contextlib.suppress(Exception):  # a layout that cannot be tightened is drawn as it is
        bottom = 0.0
        for leg in fig.legends:  # a figure-level legend below the panels: keep room for it
            leg.set_loc("lower center")
            leg.set_bbox_to_anchor((0.5, 0.0), transform=fig.transFigure)
            bottom = max(bottom, leg.get_window_extent(fig.canvas.get_renderer()).height / fig.bbox.height + 0.01)
        fig.tight_layout(rect=(0.0, bottom, 1.0, 1.0))
    moved = _place_texts(fig)  # after the layout: where a panel's text lands depends on it
    if moved:
        caption += " " + " ".join(moved)
    fig.ensemble_caption = caption


#: Where a panel's text may go, tried in order when it hides data: (x, y, ha, va) in axes fraction.
CORNERS = ((0.03, 0.97, "left", "top"), (0.97, 0.97, "right", "top"), (0.03, 0.03, "left", "bottom"),
           (0.97, 0.03, "right", "bottom"))  # fmt: skip


def _data_points(ax):
    """Display coordinates of every data point drawn in ``ax`` (lines' vertices, markers, error bars), except
    horizontal reference lines across the panel."""
    import numpy as np

    points = []
    for line in ax.lines:
        xy = np.column_stack([np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)])
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if len(xy) == 0 or (len(xy) > 1 and np.ptp(xy[:, 1]) == 0 and line.get_linestyle() in ("--", ":")):
            continue
        points.append(ax.transData.transform(xy))
    for coll in ax.collections:
        offsets = np.asarray(coll.get_offsets(), float)
        if offsets.ndim == 2 and len(offsets) and np.isfinite(offsets).all() and np.any(offsets):
            points.append(coll.get_offset_transform().transform(offsets))
        for seg in getattr(coll, "get_segments", lambda: [])():  # error bars: their ends and middles
            seg = np.asarray(seg, float)
            if seg.ndim == 2 and len(seg):
                seg = np.concatenate([seg, (seg[:1] + seg[-1:]) / 2])
                points.append(coll.get_transform().transform(seg[np.all(np.isfinite(seg), axis=1)]))
    return np.concatenate(points) if points else np.empty((0, 2))


def _hides(text, points, renderer) -> bool:
    if not len(points):
        return False
    box = text.get_window_extent(renderer).padded(2)
    return bool(((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1) & (points[:, 1] >= box.y0)
                 & (points[:, 1] <= box.y1)).any())  # fmt: skip


def _place_texts(fig) -> list[str]:
    """Move each panel's text that hides data to a corner that hides none; a text no corner can hold leaves the
    panel for the caption (returned, one phrase per text). Panel letters and titles are not panel texts."""
    import string

    try:
        renderer = fig.canvas.get_renderer()
    except Exception:  # a backend without a renderer: nothing can be measured
        return []
    panels = _panels(fig)
    notes = []
    for ax in fig.axes:
        if not ax.get_visible() or ax.get_label() == "<colorbar>":
            continue
        points, placed = None, []
        for text in list(ax.texts):
            if text.get_gid() == "panel-letter" or not text.get_visible() or not text.get_text().strip():
                continue
            points = _data_points(ax) if points is None else points
            if not _hides(text, points, renderer) and not _overlaps(text, placed, renderer):
                placed.append(text.get_window_extent(renderer))
                continue
            for x, y, ha, va in CORNERS:
                text.set_transform(ax.transAxes)
                text.set_position((x, y))
                text.set_ha(ha)
                text.set_va(va)
                if not (_hides(text, points, renderer) or _hides_legend(ax, text, renderer)
                        or _overlaps(text, placed, renderer)):  # fmt: skip
                    placed.append(text.get_window_extent(renderer))
                    break
            else:
                where = f"panel ({string.ascii_lowercase[panels.index(ax)]})" if ax in panels and len(panels) > 1 else ""
                notes.append(f"{where + ': ' if where else ''}{text.get_text()}.")
                text.remove()
    return notes


def _overlaps(text, boxes, renderer) -> bool:
    box = text.get_window_extent(renderer)
    return any(box.overlaps(b) for b in boxes)


def _hides_legend(ax, text, renderer) -> bool:
    legend = ax.get_legend()
    if legend is None:
        return False
    return text.get_window_extent(renderer).overlaps(legend.get_window_extent(renderer))


def texts(fig) -> list:
    """Every Text of a figure but tick labels (figure texts, titles, axis labels, annotations, legends)."""
    out = list(fig.texts) + ([fig._suptitle] if fig._suptitle is not None else [])
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            out += [*legend.get_texts(), legend.get_title()]
    for legend in fig.legends:
        out += [*legend.get_texts(), legend.get_title()]
    return out


_GREEK = "|".join(sorted(GREEK))
#: Notation written as plain text where mathtext belongs (matched outside ``$...$``): subscripts (W_env),
#: Greek letters spelled out (omega), a one-letter symbol given a value (W = 3) or a function of t (h(t)),
#: ASCII operators (+-, ->), a ratio of symbols (1/A).
_PLAIN = re.compile(
    r"\b[A-Za-z]{1,3}_[A-Za-z0-9{]\w*"
    r"|\b(?:log|ln|exp)\s*[0-9(]"
    rf"|\b(?:{_GREEK})\b"
    r"|(?<![\w.])[A-Za-z](?:_\w+)?\s*=\s*[-+0-9]"
    r"|(?<![\w.])[A-Za-z]\((?:t|i|r|\\omega|omega)[,)]"
    r"|\+-|->|<=|>="
    r"|(?<![\w.])1/[A-Za-z]\b"
)
#: A word set in math italic (``$unraveling$``): mathtext is for symbols, not names.
_MATH_WORD = re.compile(r"(?<![\\{])\b[a-z]{4,}\b")


def plain_notation(text: str) -> list[str]:
    """The fragments of a figure text that write mathematical notation as plain text (``"omega"``, ``"W_env"``,
    ``"L = 6"``, ``"h(t)"``, ``"+-"``), or set a word in math italic (``"$unraveling$"``). Empty for a text that
    follows the figure standard; the conformance tests apply it to every label, title and legend entry."""
    parts = re.split(r"(?<!\\)\$", text)
    if len(parts) % 2 == 0:  # an odd number of dollars: matplotlib shows it as it is
        return [text]
    found = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            found += [m.group(0) for m in _PLAIN.finditer(part)]
        else:
            bare = re.sub(r"\\(?:rm|mathrm|text|mathit|operatorname)\s*(?:\{[^}]*\}|\s\w+)|\\[A-Za-z]+", " ", part)
            found += [f"${m.group(0)}$" for m in _MATH_WORD.finditer(bare)]
    return found


def notation_faults(fig) -> list[str]:
    """``plain_notation`` over every text of a figure but tick labels: ``["'omega' in 'omega / J'", ...]``."""
    return [f"{bad!r} in {t.get_text()!r}" for t in texts(fig) for bad in plain_notation(t.get_text())]


def draw(model, exp, tables, style: str | None = None, size: str | None = None) -> dict:
    """A model's figures of a run, drawn in the project's style (``style`` on top) and finished for a journal:
    ``{name: Captioned(figure, caption)}``. Works for any model, plugins included (it calls
    ``model.figures(exp, tables)``)."""
    from ensemble.present.display import caption

    with _style_context(style):
        made = dict(model.figures(exp, tables) or {})
        if getattr(exp, "scaling", None) is not None:  # [scaling]: its figure, for any model
            import matplotlib.pyplot as plt

            from ensemble.present.scaling import scaling_figure

            fig = scaling_figure(plt, tables.get("summary"), tables.get("scaling"), exp.scaling, exp.swept_names)
            if fig is not None:
                made["scaling"] = fig
        text = caption(exp, tables.get("summary"))
        out = {}
        for name, fig in made.items():
            fig = fig.figure if isinstance(fig, Captioned) else fig
            _fix_cycle_colors(fig)
            finish(fig, text, size)
            out[name] = Captioned(fig, fig.ensemble_caption)  # finish() may add a note to the caption
    return out


def _fix_cycle_colors(fig) -> None:
    """Colours given as "C0", "C1", ... are resolved by matplotlib only when drawn; resolve them now, in the
    style's palette, so that the figure keeps it when saved or shown outside the style."""
    import re

    from matplotlib.colors import to_hex

    def fixed(c):
        return to_hex(c, keep_alpha=True) if isinstance(c, str) and re.fullmatch(r"C\d+", c) else None

    from matplotlib.lines import Line2D

    lines, texts_ = [], list(texts(fig))
    for ax in fig.axes:
        lines += list(ax.lines)
        legend = ax.get_legend()
        if legend is not None:  # its handles are copies, made when the legend was: every line under it
            lines += legend.findobj(Line2D)
    for legend in fig.legends:
        lines += legend.findobj(Line2D)
    for line in lines:
        for get, put in (("get_color", "set_color"), ("get_markerfacecolor", "set_markerfacecolor"),
                         ("get_markeredgecolor", "set_markeredgecolor")):  # fmt: skip
            c = fixed(getattr(line, get)())
            if c is not None:
                getattr(line, put)(c)
    for t in texts_:
        c = fixed(t.get_color())
        if c is not None:
            t.set_color(c)
    from matplotlib.collections import Collection

    colls = []
    for ax in fig.axes:
        colls += list(ax.collections)
        legend = ax.get_legend()
        if legend is not None:
            colls += legend.findobj(Collection)
    for legend in fig.legends:
        colls += legend.findobj(Collection)
    for coll in colls:  # error bars, bands: colours as resolved now, in the style (not colour-mapped ones)
        if coll.get_array() is None:
            coll.set_edgecolor(coll.get_edgecolor())
            coll.set_facecolor(coll.get_facecolor())


def metadata(fmt: str, name: str, caption: str, spec_text: str = "") -> dict:
    """The file metadata of a figure: title, caption, the spec and the software, in the keys each format has."""
    from ensemble.spec.provenance import package_version

    software = f"mbl-ensemble {package_version()}"
    if fmt == "png":
        return {"Title": name, "Description": caption, "Software": software, "Source": spec_text}
    if fmt == "pdf":
        return {"Title": name, "Subject": caption, "Creator": software, "Keywords": spec_text.replace("\n", "; ")}
    if fmt == "svg":
        return {"Title": name, "Description": caption + ("\n\n" + spec_text if spec_text else ""), "Creator": software}
    raise ValueError(fmt)


def save(figures: dict, out: str | Path, formats=("png",), spec_text: str = "", dpi: int = 300) -> list[Path]:
    """Write each figure as ``out/<name>.<fmt>`` with its caption and the spec in the metadata, and a
    ``<name>.caption.txt`` beside; close them; return the image paths."""
    import matplotlib.pyplot as plt

    out = Path(out)
    formats = check_formats(formats)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, item in figures.items():
        fig = item.figure if isinstance(item, Captioned) else item
        caption = getattr(fig, "ensemble_caption", "")
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            fig.savefig(path, dpi=dpi, bbox_inches="tight", pad_inches=0.02, metadata=metadata(fmt, name, caption, spec_text))
            paths.append(path)
        (out / f"{name}.caption.txt").write_text(caption + "\n")
        plt.close(fig)
    return paths
