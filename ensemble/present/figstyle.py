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
    for ax in fig.axes:  # a log axis with nothing positive on it cannot be drawn: linear, and said so
        for axis, (lo, hi) in (("x", ax.dataLim.intervalx), ("y", ax.dataLim.intervaly)):
            if getattr(ax, f"get_{axis}scale")() == "log" and not (hi > 0):
                getattr(ax, f"set_{axis}scale")("linear")
                ax.text(0.98, 0.02, f"{axis}: no positive values (linear)", transform=ax.transAxes, ha="right",
                        va="bottom", color="0.4")  # fmt: skip
    for text in texts(fig):
        if text.get_fontsize() < MIN_FONT_PT:
            text.set_fontsize(MIN_FONT_PT)
    for ax in fig.axes:
        ax.tick_params(axis="both", which="both", labelsize=MIN_FONT_PT)
    if len(panels) > 1:
        for letter, ax in zip(string.ascii_lowercase, panels):
            ax.text(-0.02, 1.02, f"({letter})", transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
                    fontweight="bold", gid="panel-letter")  # fmt: skip
    fig.ensemble_caption = caption
    fig.ensemble_size = size
    with contextlib.suppress(Exception):  # a layout that cannot be tightened is drawn as it is
        bottom = 0.0
        for leg in fig.legends:  # a figure-level legend below the panels: keep room for it
            leg.set_loc("lower center")
            leg.set_bbox_to_anchor((0.5, 0.0), transform=fig.transFigure)
            bottom = max(bottom, leg.get_window_extent(fig.canvas.get_renderer()).height / fig.bbox.height + 0.01)
        fig.tight_layout(rect=(0.0, bottom, 1.0, 1.0))


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
        made = model.figures(exp, tables) or {}
        text = caption(exp, tables.get("summary"))
        out = {}
        for name, fig in made.items():
            fig = fig.figure if isinstance(fig, Captioned) else fig
            _fix_cycle_colors(fig)
            finish(fig, text, size)
            out[name] = Captioned(fig, text)
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
