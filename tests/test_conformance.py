"""Every registered kernel follows the kernel protocol, and every model works through the model interface
for every shape of sweep: none, one value, many values, zipped parameters, a string-valued parameter."""

from __future__ import annotations

import dataclasses
import math

import matplotlib
import numpy as np
import pytest

import ensemble

from ensemble import MemoryStore, SpecError, parse_spec, execute
from ensemble.models import MODELS, builtin_kernels, kernel_names, kernel_plugin, resolve_kernel
from ensemble.analysis.resolution import STATUSES
from ensemble.analysis.tables import table_names
from kernels._interface import OPTIONAL, KernelModule, load

matplotlib.use("Agg")


@pytest.mark.parametrize("name", builtin_kernels())
def test_kernel_follows_the_protocol(name):
    kernel = load(kernel_plugin(name).value)
    assert isinstance(kernel, KernelModule) and kernel.name == name == kernel.module.NAME
    for hook in ("ANALYSIS", "SUMMARY", "memory_bytes"):  # built-in kernels declare these themselves
        assert hasattr(kernel.module, hook), f"{name} must declare {hook}"
    assert kernel.analysis in MODELS and kernel.analysis != "means"
    assert kernel.has_times == (kernel.default_times is not None)
    p = kernel.warmup_params()
    assert isinstance(p, kernel.Params) and dataclasses.is_dataclass(p)
    out = kernel.run(p, np.random.default_rng(0))
    schema = kernel.schema(p)
    assert sorted(out) == sorted(schema), f"{name}: outputs {sorted(out)} differ from the schema {sorted(schema)}"
    for obs, axes in schema.items():
        assert np.shape(out[obs]) == tuple(len(c) for c in axes.values()), f"{name}.{obs}"
        assert np.all(np.isfinite(out[obs])), f"{name}.{obs}"
    mem = kernel.memory_bytes(p)
    assert isinstance(mem, int) and mem > 0
    cost = kernel.cost(p)
    assert math.isfinite(cost) and cost > 0
    assert len(kernel.summary) < 160


@pytest.mark.parametrize("name", kernel_names())
def test_every_registered_kernel_documents_its_parameters(name):
    """Built-in and plugin kernels alike: ``ensemble kernels NAME`` has a description for every parameter."""
    from ensemble.present.describe import NO_DOC, kernel_info

    info = kernel_info(name)
    assert info.parameters and not [p["name"] for p in info.parameters if p["doc"] == NO_DOC]
    assert info.source  # where it comes from (package and version)


def test_an_undocumented_parameter_is_caught():
    from dataclasses import make_dataclass

    from kernels._interface import parameter_docs

    bare = make_dataclass("Params", [("x", float, 1.0)], frozen=True)
    assert parameter_docs(bare).get("x", ("", ""))[1] == ""  # the conformance check above would fail on it


def test_protocol_defaults_are_in_one_place():
    assert set(OPTIONAL) >= {"ANALYSIS", "DEFAULT_TIMES", "cost", "memory_bytes"}
    kernel, model = resolve_kernel("module:tests.ensemble.faulty_kernel")
    assert model is MODELS["means"] and kernel.cost(None) == 1.0 and kernel.memory_bytes(None) is None


# -- every model, every shape of sweep ------------------------------------------------------------------

#: per model: a kernel with tiny fixed parameters, a numeric and a string parameter to sweep, a zipped pair
SHAPES = {
    "front": dict(
        kernel="anderson_trajectory",
        params='L = 6\nW = 1.0',
        times="[times]\nstart = 0.5\nstop = 40.0\nnum = 10\n[fit]\nmin_start = 2.0\nmin_points = 4\nmin_decades = 0.5",
        number=("W", "[1.0, 3.0]"),
        string=("unraveling", '["kicks", "jumps"]'),
        profile=("profile", '["", "clean 1; 3..4=0.5"]'),
        zipped=("L", "[4, 6]", "W", "[1.0, 2.0]"),
    ),
    "ipr": dict(
        kernel="rmt_bath",
        params='l_b = 3\nn_lioms = 2',
        times="",
        number=("n_lioms", "[1, 2]"),
        string=("bath", '["goe", "local"]'),
        zipped=("l_b", "[3, 4]", "n_lioms", "[1, 2]"),
    ),
    "bubble": dict(
        kernel="xxz_bubble",
        params='L = 6\nn_goe = 2\nbeta = 0.5\nn_eig = 4\nW = 2.0',
        times="",
        number=("W", "[1.0, 3.0]"),
        string=("method", '["full", "shift_invert"]'),
        profile=("profile", '["", "clean 0"]'),
        zipped=("L", "[6, 8]", "n_goe", "[2, 0]"),
    ),
    "quench": dict(
        kernel="coupled_chains",
        params='l = 2\nwindow_start = 1.0\nwindow_stop = 2.0\nwindow_points = 3\nJ_int = 1.0',
        times="[times]\nvalues = [0.5, 1.0, 2.0]",
        number=("J_int", "[0.0, 1.0]"),
        string=("config", '["junction", "ladder"]'),
        profile=("profile", '["", "clean 1"]'),
        zipped=("W_s", "[1.0, 2.0]", "W_e", "[0.0, 1.0]"),
    ),
    "means": dict(
        kernel="module:tests.ensemble.means_kernel",
        params="L = 3\nW = 1.0",
        times="[times]\nvalues = [0.5, 5.0, 50.0]",
        number=("W", "[1.0, 3.0]"),
        string=("kind", '["plain", "shifted"]'),
        zipped=("L", "[3, 4]", "W", "[1.0, 2.0]"),
    ),
    "impurity": dict(
        kernel="boson_impurity",
        params='L = 5\nU = 2.0',
        times="[times]\nvalues = [0.5, 1.0, 2.0, 4.0]",
        number=("U", "[1.0, 4.0]"),
        string=("d_bits", '["10010", "01001"]'),
        profile=("profile", '["", "0..1=0.5"]'),
        zipped=("L", "[5, 6]", "U", "[1.0, 2.0]"),
    ),
}


def builtin_models() -> set[str]:
    from ensemble.plugins import GROUPS, registered

    return {n for n, p in registered(GROUPS["models"]).items() if p.builtin}


def test_every_model_is_in_the_shape_matrix():
    """A built-in model without a SHAPES entry would escape the five-shape matrix silently: it fails here."""
    missing = builtin_models() - set(SHAPES)
    assert not missing, f"models without an entry in SHAPES (tests/test_conformance.py): {sorted(missing)}"
    for name, d in SHAPES.items():
        assert {"kernel", "params", "times", "number", "string", "zipped"} <= set(d), name
        exp = parse_spec(spec_text(name, "string"))  # the string parameter really is one the kernel takes
        values = {getattr(p.params, d["string"][0]) for p in exp.points}
        assert len(values) == 2 and all(isinstance(v, str) for v in values), (name, values)
    assert {resolve_kernel(k)[1].name for k in builtin_kernels()} <= set(SHAPES)
    assert builtin_models() - (set(SHAPES) - {"front"}) == {"front"}  # negative control: one left out is seen


def spec_text(model: str, shape: str) -> str:
    d = SHAPES[model]
    params = dict(line.split(" = ", 1) for line in d["params"].splitlines())
    sweep = ""
    if shape in ("one", "many", "string", "profile"):
        key, values = d["number"] if shape in ("one", "many") else d[shape]
        if shape == "one":
            values = "[" + values.strip("[]").split(",")[0] + "]"
        params.pop(key, None)
        sweep = f"[sweep]\n{key} = {values}\n"
    elif shape in ("zip", "two"):
        a, va, b, vb = d["zipped"]
        params.pop(a, None)
        params.pop(b, None)
        table = "[sweep.zip]" if shape == "zip" else "[sweep]"  # "two": the product of two swept parameters
        sweep = f"{table}\n{a} = {va}\n{b} = {vb}\n"
    fixed = "\n".join(f"{k} = {v}" for k, v in params.items())
    return f'kernel = "{d["kernel"]}"\nseed = 3\nrealizations = 4\nbatch_size = 2\n[params]\n{fixed}\n{sweep}{d["times"]}\n'


SHAPE_NAMES = ("none", "one", "many", "zip", "two", "string", "profile")


@pytest.mark.parametrize("shape", SHAPE_NAMES)
@pytest.mark.parametrize("model", sorted(SHAPES))
def test_model_runs_reports_and_draws_every_shape_of_sweep(model, shape):
    """Every model, every shape of sweep (a disorder profile for the models whose kernel has one)."""
    import matplotlib.pyplot as plt

    if shape == "profile" and "profile" not in SHAPES[model]:
        assert "profile" not in resolve_kernel(SHAPES[model]["kernel"])[0].param_names  # not skipped by mistake
        return

    exp = parse_spec(spec_text(model, shape))
    assert exp.model is MODELS[model]
    result = execute(exp, MemoryStore())
    assert set(result.tables) == set(table_names(exp))
    fits = result.tables["fits"]
    if len(fits):  # every derived number says whether a grid the spec chose limits it (issue 22)
        assert fits["status"].isin(STATUSES).all(), fits.loc[~fits["status"].isin(STATUSES), ["fit", "status"]]
    lines = exp.model.report(exp, result.tables)
    assert all(isinstance(line, str) for line in lines)
    from ensemble.present.figstyle import draw

    figs = draw(exp.model, exp, result.tables)
    assert all(isinstance(f.figure, matplotlib.figure.Figure) for f in figs.values())
    for name, f in figs.items():
        check_readable(name, f)
        plt.close(f.figure)


def texts_over_data(ax) -> list[str]:
    """Texts inside a panel (not its title, labels or panel letter) whose box holds a drawn data point."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    points = []
    for line in ax.lines:
        xy = np.column_stack([np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)])
        if len(xy) > 2 and line.get_linestyle() in ("--", ":") and np.ptp(xy[:, 1]) == 0:
            continue  # a reference line across the panel (GOE, Poisson): text may sit on it
        points.append(ax.transData.transform(xy[np.all(np.isfinite(xy), axis=1)]))
    for coll in ax.collections:
        offsets = np.asarray(coll.get_offsets(), float)
        if offsets.ndim == 2 and len(offsets):
            points.append(coll.get_offset_transform().transform(offsets))
    pts = np.concatenate(points) if points else np.empty((0, 2))
    out = []
    for text in ax.texts:
        if text.get_gid() == "panel-letter" or not text.get_visible() or not text.get_text().strip():
            continue
        box = text.get_window_extent(renderer)
        inside = (pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0) & (pts[:, 1] <= box.y1)
        if inside.any():
            out.append(text.get_text())
    return out


def test_the_text_over_data_check_can_fail():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [0, 1, 2], "o")
    ax.text(1, 1, "y: no positive values (linear)", ha="center", va="center")
    assert texts_over_data(ax) == ["y: no positive values (linear)"]
    ax.texts[0].set_position((0.1, 1.8))  # negative control: beside the data
    assert texts_over_data(ax) == []
    plt.close(fig)


def check_readable(name, item):
    """What every figure must have: a caption stating the run (kernel, N_r, version) beside it and no spec
    dump on it (a figure title is at most a short phrase); fonts >= 7 pt at its journal size; no empty or
    unlabelled panels; legends whose every entry has a label, and not more entries than can be read; panel
    letters where there is more than one panel."""
    from ensemble.present.figstyle import COLUMN_WIDTHS, MAX_SUPTITLE, MIN_FONT_PT, Captioned

    assert isinstance(item, Captioned), f"{name}: figures come with their caption"
    fig, cap = item.figure, item.caption
    assert "N_r = " in cap and "(" in cap and "mbl-ensemble" in cap, f"{name}: the caption does not state the run: {cap!r}"
    title = fig._suptitle.get_text() if fig._suptitle is not None else ""
    assert len(title) <= MAX_SUPTITLE and "N_r" not in title, f"{name}: a spec dump as the title: {title!r}"
    assert fig.get_size_inches()[0] in COLUMN_WIDTHS.values(), f"{name}: not a journal column width"
    from ensemble.present.figstyle import texts

    ticks = [ax.xaxis.get_tick_params(which="major").get("labelsize", 99) for ax in fig.axes]
    small = [t.get_text() for t in texts(fig) if t.get_fontsize() < MIN_FONT_PT] + [s for s in ticks if s < MIN_FONT_PT]
    assert not small, f"{name}: text below {MIN_FONT_PT} pt at print size: {small[:3]}"
    panels = []
    for ax in fig.axes:
        if ax.get_visible() and ax.get_label() == "<colorbar>":
            bar_label = (ax.get_ylabel() or ax.get_xlabel()).strip()
            assert bar_label and "index" not in bar_label, f"{name}: a colour scale labelled {bar_label!r}"
            continue
        if not ax.get_visible():
            continue
        over = texts_over_data(ax)
        assert not over, f"{name}: text written over the data: {over[:2]}"
        panels.append(ax)
        drawn = ax.lines or ax.collections or ax.patches or ax.images or ax.containers
        assert drawn, f"{name}: an empty panel ({ax.get_title()!r})"
        shared = ax.get_shared_x_axes().get_siblings(ax)  # sharex panels label the bottom one
        assert any(a.get_xlabel() for a in shared), f"{name}: a panel without an x label ({ax.get_title()!r})"
        legend = ax.get_legend()
        if legend is not None:
            texts = [t.get_text() for t in legend.get_texts()]
            assert len(texts) <= 16, f"{name}: a legend of {len(texts)} entries"
            assert all(t.strip() and not t.startswith("_") for t in texts), f"{name}: a legend entry without a label"
    assert any(ax.get_ylabel() for ax in fig.axes), f"{name}: no y label"
    if len([a for a in panels if a.get_subplotspec() is not None]) > 1:
        letters = [t for ax in panels for t in ax.texts if t.get_gid() == "panel-letter"]
        assert letters, f"{name}: several panels without letters"
    clash = _colour_clashes(fig)
    assert not clash, f"{name}: one legend label in two colours (the same swept value must look the same): {clash[:3]}"
    from ensemble.present.figstyle import notation_faults

    plain = notation_faults(fig)
    assert not plain, f"{name}: notation written as plain text, not mathtext: {plain[:4]}"
    import io

    fig.savefig(io.BytesIO(), format="png", dpi=40)  # draws: every mathtext label must parse


def _colour_clashes(fig) -> list:
    """Legend labels drawn in more than one colour across (or within) a figure's legends."""
    from matplotlib.colors import to_hex

    def colour(handle):
        for get in ("get_color", "get_facecolor", "get_edgecolor"):
            c = getattr(handle, get, lambda: None)()
            c = c[0] if getattr(c, "ndim", 1) == 2 and len(c) else c
            try:
                return to_hex(c)
            except (ValueError, TypeError):
                continue
        return None

    seen, clashes = {}, []
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    for legend in legends:
        for handle, text in zip(legend.legend_handles, legend.get_texts()):
            c, t = colour(handle), text.get_text()
            if c is not None and seen.setdefault(t, c) != c:
                clashes.append((t, seen[t], c))
    return clashes


def test_a_label_in_two_colours_is_caught():
    """Negative control of the colour check: two series with one label in two colours."""
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    a.plot([0, 1], [0, 1], color="C0", label="$W = 3$")
    b.plot([0, 1], [1, 0], color="C1", label="$W = 3$")
    a.legend(), b.legend()
    from matplotlib.colors import to_hex

    assert _colour_clashes(fig) == [("$W = 3$", to_hex("C0"), to_hex("C1"))]
    b.get_lines()[0].set_color("C0")
    b.legend()
    assert _colour_clashes(fig) == []
    plt.close(fig)


@pytest.mark.parametrize("text, faults", [
    ("omega / J", ["omega"]), ("W_env", ["W_env"]), ("L = 6", ["L = 6"]), ("front h(t)", ["h(t)"]),
    ("fit: 1.0 +- 0.1", ["+-"]), ("1/A", ["1/A"]), ("$unraveling$", ["$unraveling$"]), ("log 2", ["log 2"]),
    (r"$\omega / J$", []), (r"$W_{\rm env} = 3$", []), (r"$n_{\rm lioms} = 2$", []), ("unraveling = jumps", []),
    (r"mean $\pm$ s.e. (Eq. 4)", []), (r"bound $2\ln 4$", []), (r"$\overline{M}_{\rm sys}$", []),
])  # fmt: skip
def test_plain_text_notation_is_caught(text, faults):
    """The check the figures pass must fail on the faults the issue listed (a negative control for it)."""
    from ensemble.present.figstyle import plain_notation

    assert plain_notation(text) == faults


def test_figures_write_vector_formats_with_provenance_in_the_metadata(tmp_path):
    """PNG text chunks, PDF and SVG metadata hold the caption and the spec; a user style applies on top."""
    import matplotlib

    matplotlib.use("Agg")
    from PIL import Image

    from ensemble.present.figstyle import save

    exp = parse_spec(spec_text("means", "none"))
    from ensemble.present.figstyle import draw

    figs = draw(exp.model, exp, execute(exp, MemoryStore()).tables, style="ggplot", size="single")
    name, item = next(iter(figs.items()))
    assert item.figure.get_size_inches()[0] == 3.4
    paths = save({name: item}, tmp_path, ("png", "pdf", "svg"), spec_text="seed = 1")
    assert sorted(p.suffix for p in paths) == [".pdf", ".png", ".svg"]
    png = Image.open(tmp_path / f"{name}.png").text
    assert png["Description"] == item.caption and png["Source"] == "seed = 1" and png["Software"].startswith("mbl-ensemble")
    assert b"N_r" in (tmp_path / f"{name}.pdf").read_bytes() or b"/Subject" in (tmp_path / f"{name}.pdf").read_bytes()
    assert "N_r = " in (tmp_path / f"{name}.svg").read_text() and (tmp_path / f"{name}.caption.txt").read_text().strip() == item.caption
    with pytest.raises(ensemble.UsageError, match="style"):
        draw(exp.model, exp, execute(exp, MemoryStore()).tables, style="no-such-style")


@pytest.mark.parametrize("model", sorted(MODELS))
def test_fit_settings_are_validated_per_model(model):
    m = MODELS[model]
    assert m.settings({}) == m.Settings()
    with pytest.raises(SpecError, match=f"keys of the {model} analysis"):
        m.settings({"no_such_setting": 1})
    for key, doc in m.settings_doc().items():
        assert doc, f"{model}: [fit] {key} has no documentation"


def test_front_settings_are_refused_for_another_model():
    text = spec_text("ipr", "none") + "[fit]\nr_th = 0.2\n"
    with pytest.raises(SpecError) as e:
        parse_spec(text)
    assert e.value.field == "fit.r_th" and "ipr analysis" in str(e.value)


@pytest.mark.parametrize("name", builtin_kernels())
def test_every_builtin_kernel_states_its_physics(name):
    """The kernel's page and `ensemble kernels NAME` show the model from the kernel's own docstring: its
    Hamiltonian (a math block), boundary conditions, the disorder's distribution and the operators' convention."""
    import re

    from ensemble.present.describe import kernel_info

    text = kernel_info(name).physics
    assert ".. math::" in text, f"{name}: no Hamiltonian"
    assert re.search(r"\bopen\b|periodic|\bring\b|boundar", text), f"{name}: no boundary conditions"
    assert re.search(r"uniform|N\(0|GOE", text), f"{name}: no distribution of the disorder"
    assert re.search(r"S = sigma/2|Pauli|hard-core|spin-1/2", text), f"{name}: no operator convention"
    assert "model (the kernel's own description)" in str(kernel_info(name))
