"""``ensemble new-kernel NAME``: a working, tested skeleton of a plugin with its own kernel, analysis and figure.

Three files make the plugin (``pyproject.toml``, ``NAME.py``, ``NAME_analysis.py``) and a fourth tests it
(``test_NAME.py``). The example physics has a closed form to test against: one spin in a random field
h ~ U[-W, W], whose disorder-averaged Ramsey signal is <sigma^z(t)> = sin(W t) / (W t); the analysis derives
the dephasing time T (the signal at 1/e) with its jackknife error. Replace both with your model; keep the
shape: ``sample`` draws, ``realize`` computes, Numba loops are ``@jit`` (``kernels.jit``: nogil, cached) without
``prange``, every parameter is documented.
"""

from __future__ import annotations

import keyword
import re
import sys
from pathlib import Path
from string import Template

from ensemble.errors import UsageError

__all__ = ["FILES", "FILES_STATIC", "MAX_NAME", "check_name", "skeleton", "write_skeleton"]

PYPROJECT = '''\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "$name: a kernel and an analysis for mbl-ensemble"
dependencies = ["mbl-ensemble"]

[tool.setuptools]
py-modules = ["$name", "${name}_analysis"]

[project.entry-points."mbl_ensemble.kernels"]
$name = "$name"

[project.entry-points."mbl_ensemble.models"]
${name}_decay = "${name}_analysis"
'''

KERNEL = '''\
r"""Ramsey signal of one spin in a random field: <sigma^z(t)> = cos(h t), h uniform in [-W, W].

Its disorder average is the closed form sin(W t) / (W t) (test_$name.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kernels._params import ParameterError
from kernels.jit import jit

NAME = "$name"
ANALYSIS = "${name}_decay"
OBSERVABLES = {"sz": "<sigma^z(t)> after a pi/2 pulse, one field sample"}
LABELS = {"sz": r"$$\\langle\\sigma^z(t)\\rangle$$", "t": r"time $$t$$"}
DEFAULT_TIMES = {"start": 0.1, "stop": 20.0, "num": 40}


@dataclass(frozen=True)
class Params:
    """One spin in a random field.

    Parameters
    ----------
    W : float
        Half-width of the field distribution, h uniform in [-W, W], > 0.
    times : tuple of float
        Sample times.
    """

    W: float = 1.0
    times: tuple[float, ...] = field(default=(1.0,))

    def __post_init__(self):
        if not self.W > 0:
            raise ParameterError("W", self.W, "a field width > 0, e.g. W = 1.0")


def sample(p: Params, rng: np.random.Generator) -> float:
    return rng.uniform(-p.W, p.W)


@jit
def _signal(h, t, out):
    for i in range(t.size):
        out[i] = np.cos(h * t[i])


def realize(p: Params, h: float) -> dict:
    t = np.asarray(p.times, dtype=float)
    out = np.empty_like(t)
    _signal(h, t, out)
    return {"sz": out}


def schema(p: Params) -> dict:
    return {"sz": {"t": np.asarray(p.times, dtype=float)}}


def warmup_params() -> Params:
    return Params(times=(0.5, 1.0))


def cost(p: Params) -> float:
    """CPU seconds of one realization (calibrate yours; without this hook the engine measures it)."""
    return 1e-5
'''

ANALYSIS = '''\
"""Analysis of $name: the dephasing time T (the averaged signal at 1/e) with its jackknife error, a report line
per point, and a figure against the closed form."""

from __future__ import annotations

import math

import numpy as np

from ensemble.models import Model
from ensemble.analysis.resolution import classify


class Decay:
    derived_axes: dict = {}

    def __init__(self, params):
        self.t = np.asarray(params.times, dtype=float)

    def estimators(self, means):  # broadcasts over the jackknife's leading axis
        sz = means["sz"]
        below = sz < 1 / math.e
        i = np.argmax(below, axis=-1)
        j = np.maximum(i - 1, 0)
        y0, y1 = np.take_along_axis(sz, j[..., None], -1)[..., 0], np.take_along_axis(sz, i[..., None], -1)[..., 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            T = self.t[j] + (y0 - 1 / math.e) / (y0 - y1) * (self.t[i] - self.t[j])
        return {"T": np.where(below.any(axis=-1) & (i > 0), T, np.nan)}

    def fit_rows(self, value, sem):
        T, err = float(value["T"]), float(sem["T"])
        return {"fits": [{"fit": "dephasing", "T": T, "T_err": err, "status": classify(T, err, edge=not math.isfinite(T))}]}


class DecayModel(Model):
    name = "${name}_decay"
    description = "dephasing time of a disorder-averaged Ramsey signal"

    def analysis(self, params, settings):
        return Decay(params)

    def report(self, exp, tables):
        rows = tables["fits"][tables["fits"]["fit"] == "dephasing"]
        return ["", "Dephasing time T (signal = 1/e; closed form 2.0 / W)"] + [
            f"  W = {r.W:g}: T = {r.T:.4f} +- {r.T_err:.4f} [{r.status}]" for r in rows.itertuples()]

    def figures(self, exp, tables):
        import matplotlib.pyplot as plt

        s = tables["summary"]
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for W, g in s[s.observable == "sz"].groupby("W"):
            ax.errorbar(g.t, g["mean"], yerr=g["sem"], fmt="o", ms=3, label=f"$$W = {W:g}$$")
            t = np.linspace(g.t.min(), g.t.max(), 400)
            ax.plot(t, np.sin(W * t) / (W * t), "k-", lw=0.8)
        ax.set(xlabel=r"$$t$$", ylabel=r"$$\\langle\\sigma^z\\rangle$$")
        ax.legend(title=r"lines: $$\\sin(Wt)/(Wt)$$")
        return {"${name}_signal": fig}


MODEL = DecayModel()
'''

TEST = '''\
"""$name against its closed form, through the engine, with a negative control."""

import numpy as np

import ensemble
import $name

SPEC = """
kernel = "$name"
seed = 1
realizations = 400
[sweep]
W = [0.5, 2.0]
[times]
values = [0.5, 1.0, 2.0, 4.0]
"""


def test_one_realization_is_cos_h_t():
    p = $name.Params(W=1.0, times=(0.5, 2.0))
    assert np.allclose($name.realize(p, 0.3)["sz"], np.cos(0.3 * np.array([0.5, 2.0])), atol=1e-14)


def test_average_is_the_closed_form_and_not_a_gaussian_decay(tmp_path):
    s = ensemble.run(SPEC, out=tmp_path / "run", executor="serial").summary
    g = s[s.observable == "sz"]
    x = g.W * g.t
    z = (g["mean"] - np.sin(x) / x) / g["sem"]
    wrong = (g["mean"] - np.exp(-(x**2) / 6)) / g["sem"]  # the same short-time decay, not the law: must fail
    assert np.abs(z).max() < 4 and np.abs(wrong).max() > 4
'''

KERNEL_STATIC = '''\
r"""Level splitting of a random 2 x 2 real symmetric matrix: a disorder sample without time dependence.

H = [[a, b], [b, -a]] with a, b ~ N(0, W^2): eigenvalues +-sqrt(a^2 + b^2). The splitting is Rayleigh
distributed (the Wigner surmise of the GOE), <gap> = W sqrt(2 pi), and the ground energy <E_0> = -W sqrt(pi/2)
(test_$name.py checks both).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels._params import ParameterError
from kernels.jit import jit

NAME = "$name"
ANALYSIS = "${name}_levels"
OBSERVABLES = {"gap": "splitting of the two levels of one sample", "gap_sq": "its square (for <gap^2>)",
               "e0": "ground-state energy of one sample"}
LABELS = {"gap": r"$$\\Delta$$", "gap_sq": r"$$\\Delta^2$$", "e0": r"$$E_0$$"}


@dataclass(frozen=True)
class Params:
    """One random 2 x 2 matrix.

    Parameters
    ----------
    W : float
        Standard deviation of the matrix elements a and b, > 0.
    """

    W: float = 1.0

    def __post_init__(self):
        if not self.W > 0:
            raise ParameterError("W", self.W, "a width > 0, e.g. W = 1.0")


def sample(p: Params, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0.0, p.W, size=2)


@jit
def _levels(a, b):
    r = np.sqrt(a * a + b * b)
    return 2.0 * r, -r


def realize(p: Params, ab: np.ndarray) -> dict:
    gap, e0 = _levels(ab[0], ab[1])
    return {"gap": np.array(gap), "gap_sq": np.array(gap * gap), "e0": np.array(e0)}


def schema(p: Params) -> dict:
    return {"gap": {}, "gap_sq": {}, "e0": {}}


def warmup_params() -> Params:
    return Params()


def cost(p: Params) -> float:
    """CPU seconds of one realization (calibrate yours; without this hook the engine measures it)."""
    return 1e-6
'''

ANALYSIS_STATIC = '''\
"""Analysis of $name: the level-repulsion ratio R = <gap>^2 / <gap^2> with its jackknife error (pi/4 for the
Wigner surmise of the GOE, 1/2 for Poisson levels), a report line per point, and a figure against W."""

from __future__ import annotations

import math

import numpy as np

from ensemble.models import Model
from ensemble.analysis.resolution import classify


class Repulsion:
    derived_axes: dict = {}

    def __init__(self, params):
        pass

    def estimators(self, means):  # broadcasts over the jackknife's leading axis
        return {"R": means["gap"] ** 2 / means["gap_sq"]}

    def fit_rows(self, value, sem):
        R, err = float(value["R"]), float(sem["R"])
        return {"fits": [{"fit": "repulsion", "R": R, "R_err": err, "status": classify(R, err)}]}


class LevelsModel(Model):
    name = "${name}_levels"
    description = "level-repulsion ratio <gap>^2/<gap^2> of random 2 x 2 matrices"

    def analysis(self, params, settings):
        return Repulsion(params)

    def report(self, exp, tables):
        rows = tables["fits"][tables["fits"]["fit"] == "repulsion"]
        return ["", "Level repulsion R = <gap>^2/<gap^2> (GOE surmise: pi/4 = 0.7854; Poisson: 0.5)"] + [
            f"  W = {r.W:g}: R = {r.R:.4f} +- {r.R_err:.4f} [{r.status}]" for r in rows.itertuples()]

    def figures(self, exp, tables):
        import matplotlib.pyplot as plt

        s = tables["summary"]
        g = s[s.observable == "gap"].sort_values("W")
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.errorbar(g.W, g["mean"], yerr=g["sem"], fmt="o", ms=4, label=r"$$\\langle\\Delta\\rangle$$, mean $$\\pm$$ s.e.")
        w = np.linspace(0, g.W.max() * 1.05, 100)
        ax.plot(w, w * math.sqrt(2 * math.pi), "k-", lw=0.8, label=r"$$W\\sqrt{2\\pi}$$")
        ax.set(xlabel=r"$$W$$", ylabel=r"level splitting $$\\langle\\Delta\\rangle$$")
        ax.legend()
        return {"${name}_splitting": fig}


MODEL = LevelsModel()
'''

TEST_STATIC = '''\
"""$name against its closed forms, through the engine, with a negative control."""

import math

import numpy as np

import ensemble
import $name

SPEC = """
kernel = "$name"
seed = 1
realizations = 2000
[sweep]
W = [0.5, 2.0]
"""


def test_one_sample_has_its_two_eigenvalues():
    out = $name.realize($name.Params(), np.array([0.3, -0.4]))
    assert np.isclose(out["gap"], 1.0) and np.isclose(out["e0"], -0.5)


def test_averages_are_the_closed_forms_and_not_poisson(tmp_path):
    run = ensemble.run(SPEC, out=tmp_path / "run", executor="serial")
    s = run.summary
    g = s[s.observable == "gap"]
    z = (g["mean"] - g.W * math.sqrt(2 * math.pi)) / g["sem"]
    wrong = (g["mean"] - g.W * 2.0) / g["sem"]  # an exponential (Poisson) splitting of the same scale: must fail
    assert np.abs(z).max() < 4 and np.abs(wrong).max() > 4
    e0 = s[s.observable == "e0"]
    assert np.abs((e0["mean"] + e0.W * math.sqrt(math.pi / 2)) / e0["sem"]).max() < 4
    fits = run.fits  # the analysis: R = pi/4 (level repulsion), not 1/2 (Poisson)
    assert np.abs((fits["R"] - math.pi / 4) / fits["R_err"]).max() < 4 and np.abs((fits["R"] - 0.5) / fits["R_err"]).min() > 4
'''

#: File name (a template of ``$name``) -> contents.
FILES = {"pyproject.toml": PYPROJECT, "$name.py": KERNEL, "${name}_analysis.py": ANALYSIS, "test_$name.py": TEST}
#: The same for a kernel without time dependence (``ensemble new-kernel NAME --static``).
FILES_STATIC = {"pyproject.toml": PYPROJECT.replace("${name}_decay", "${name}_levels"), "$name.py": KERNEL_STATIC,
                "${name}_analysis.py": ANALYSIS_STATIC, "test_$name.py": TEST_STATIC}


#: Longest kernel name (it names a module, a distribution, files and table values).
MAX_NAME = 64


def check_name(name: str, shadows: bool = True) -> None:
    """UsageError unless ``name`` can name a new kernel: a lowercase Python identifier of at most MAX_NAME
    characters that is not a keyword and (``shadows``) shadows nothing importable (the standard library, an installed package
    or module, this package's own, a test module) nor a registered kernel."""
    import importlib.util

    allowed = "a lowercase Python identifier, e.g. ensemble new-kernel my_chain"
    if not isinstance(name, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise UsageError("NAME", name, allowed)
    if len(name) > MAX_NAME:
        raise UsageError("NAME", name, f"{allowed}, of at most {MAX_NAME} characters")
    if not shadows:
        return
    from ensemble.models import kernel_names

    if name in kernel_names():
        raise UsageError("NAME", name, f"a name no kernel has yet ({name} is registered: ensemble kernels {name})")
    for module in (name, f"{name}_analysis", f"test_{name}"):
        if module in sys.stdlib_module_names or module in ("test", "tests", "ensemble", "kernels", "cluster"):
            taken = True
        else:
            try:
                found = importlib.util.find_spec(module)
            except (ImportError, ValueError):
                found = None
            # a plain directory of that name (a namespace package, e.g. the skeleton's own --out) shadows nothing
            taken = found is not None and found.origin not in (None, "namespace")
        if taken:
            raise UsageError("NAME", name, f"{allowed} that shadows no module (a module {module!r} is importable "
                             "here already: the plugin would hide it, or it the plugin); e.g. my_" + name)  # fmt: skip


def skeleton(name: str, static: bool = False) -> dict[str, str]:
    """The plugin's files for a kernel called ``name`` (a Python identifier): file name -> text. ``static``: a
    kernel without time dependence (a disorder sample's levels)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name or "") or keyword.iskeyword(name):
        raise UsageError("NAME", name, "a lowercase Python identifier, e.g. ensemble new-kernel my_chain")
    values = {"name": name, "dist": name.replace("_", "-")}
    files = FILES_STATIC if static else FILES
    return {Template(f).substitute(values): Template(text).substitute(values) for f, text in files.items()}


def write_skeleton(name: str, directory: str | Path, static: bool = False) -> list[Path]:
    """Write the skeleton into ``directory`` (new, or empty, outside every run directory); return the files written.
    The name is checked by :func:`check_name`."""
    from ensemble.store.guard import new_directory

    check_name(name, shadows=False)  # the name's form first: it may name the directory
    directory = new_directory(directory, "--out", empty=True)
    check_name(name)
    files = skeleton(name, static)
    out = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for fname, text in files.items():
            path = directory / fname
            path.write_text(text)
            out.append(path)
    except OSError as e:
        raise UsageError("--out", str(directory), f"a directory that can be written ({e.strerror or e})") from None
    return out
