"""Experiment specs: TOML in, a validated, frozen :class:`Experiment` out.

A spec names the kernel, its fixed parameters, a sweep (Cartesian product of
listed values), the realizations per point, the batch and block sizes, the
root seed, the sample times and the fit settings::

    kernel = "anderson_trajectory"
    seed = 2024
    realizations = 240          # per parameter point, or per value of a swept parameter:
                                # realizations = { by = "L", values = [500, 300, 100] }
    # batch_size = 20           # realizations per task (whole blocks); default: sized from the cost, see [scheduling]
    # block_size = 4            # realizations per jackknife block (default ceil(realizations/100))

    [params]                    # fixed parameters of the kernel
    L = 80

    [sweep]                     # Cartesian product, last key varies fastest
    W = [3.0, 5.0, 8.0, 10.0]
    # [sweep.zip]               # parameters that vary together (one row each),
    # L = [10, 12, 12, 14]      # crossed with the rest; rows vary fastest
    # n_goe = [4, 4, 0, 0]

    [times]                     # log-spaced on the tau grid by default ...
    start = 1.0
    stop = 1000.0
    num = 31
    # values = [1.0, 2.0, 5.0]  # ... or an explicit list

    [fit]
    # window = [10.0, 1000.0]   # default: chosen automatically

Every problem raises :class:`~ensemble.errors.SpecError` naming the field, the
value and what is allowed, before any directory is made or task scheduled.
"""

from __future__ import annotations

import dataclasses
import decimal
import hashlib
import itertools
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

from kernels._interface import KernelModule
from kernels._params import ParameterError

from ensemble.spec.distributions import digest as dist_digest
from ensemble.spec.distributions import parse_distributions
from ensemble.spec.distributions import to_dict as dist_dict
from ensemble.errors import SpecError, did_you_mean
from ensemble.spec.limits import check_points, check_size
from ensemble.spec.goals import Precision, parse_precision
from ensemble.spec.scaling import Scaling, parse_scaling
from ensemble.spec.settings import Scheduling, check_scheduling
from ensemble.models import Model, resolve_kernel
from ensemble.spec.seeding import draw_key, identifying_params, point_key
from ensemble.spec.settings import to_dict
from ensemble.spec.seeding import block_range

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Experiment", "Point", "load_spec", "parse_spec", "resolve_times", "with_block_sizes", "with_fit",
           "with_recorded_kernel", "with_recorded_times"]

#: Every top-level key of a spec, with what it means (the docs' spec reference is generated from this).
SPEC_FIELDS = {
    "kernel": "the kernel: a registered name (`ensemble kernels` lists them) or `module:package.module` (required)",
    "name": "the run's name (default: the spec file's name); the default run directory is runs/<name>",
    "description": "free text, kept with the run",
    "seed": "the root seed, an integer >= 0 (required): realization r of a point gets "
            "SeedSequence(seed, spawn_key=(point_key, r))",
    "realizations": "realizations per point: an integer, or { by = PARAM, values = [...] } with one count per "
                    "value of a swept parameter (with [precision]: where every point starts)",
    "batch_size": "realizations per task, rounded up to whole blocks (default: sized from the cost model, see "
                  "[scheduling])",
    "block_size": "realizations per jackknife block (default: ceil(realizations / 100) per point); a run keeps its "
                  "block sizes when it grows",
    "scheduling": "task sizing when batch_size is not set: task_seconds (CPU seconds per task, default 60) and "
                  "tasks_per_worker (default 4)",
    "precision": "a precision goal: observable + where + sem, or fit + column + err, and max_realizations",
    "params": "fixed kernel parameters (defaults from the kernel's Params)",
    "sweep": "swept kernel parameters, a list each (Cartesian product, last key fastest); [sweep.zip] holds "
             "parameters that vary together",
    "times": "sample times: start, stop, num (log-spaced) or values = [...] (kernels with a time axis)",
    "fit": "settings of the kernel's analysis (`ensemble kernels NAME` lists them with defaults)",
    "distributions": "observables whose per-realization distributions are kept (histograms), where the kernel "
                     "declares them",
    "scaling": "a finite-size scaling analysis of one observable: observable (+ where), size, control; the "
               "crossings of successive sizes, their drift to infinite size and a scaling collapse",
    "refine": "a sweep that refines itself (with [scaling]): err, max_points, max_realizations; adds values of the "
              "control parameter inside each crossing's bracket and grows its points until every crossing's "
              "statistical and interpolation errors are at most err",
}
TOP_KEYS = tuple(SPEC_FIELDS)
TIMES_KEYS = ("start", "stop", "num", "values")
#: Most sample times a spec may ask for (every time is a column value of every observable's rows, per point).
MAX_TIMES = 10_000
DEFAULT_BLOCKS = 100


@dataclass(frozen=True)
class Point:
    """One parameter point of the sweep.

    Attributes
    ----------
    index : int
        Position in the sweep (for display and ordering only; seeding uses ``key``).
    params : kernel Params
    key : int
        64-bit seeding key from the parameter values (see :mod:`ensemble.spec.seeding`).
    swept : dict
        The swept parameters' values at this point.
    realizations, block_size : int
        Realizations of this point and realizations per jackknife block.
    draw_key : int or None
        Key of the realization seeds when it differs from ``key`` (a kernel's paired fields, e.g. a disorder
        profile: :func:`ensemble.spec.seeding.draw_key`); None: ``key``.
    """

    index: int
    params: Any
    key: int
    swept: dict
    realizations: int
    block_size: int
    draw_key: int | None = None

    @property
    def seed_key(self) -> int:
        """The key realization r of this point is seeded from: ``realization_rng(seed, seed_key, r)``."""
        return self.key if self.draw_key is None else self.draw_key

    @property
    def n_blocks(self) -> int:
        """Jackknife blocks of this point (the last may be shorter)."""
        return -(-self.realizations // self.block_size)

    def block_range(self, block: int) -> range:
        """Realization indices of one block."""
        return block_range(block, self.block_size, self.realizations)

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={_label_value(v)}" for k, v in self.swept.items())


def _label_value(v) -> str:
    """A swept value as a label shows it: floats by %g; strings quoted when empty or holding a separator
    (a disorder profile "clean 6", "5..8=0.5; 10=2"), so that the label reads back unambiguously."""
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, str) and (not v or any(c in v for c in " ,=;")):
        return f'"{v}"'
    return f"{v}"


@dataclass(frozen=True)
class Experiment:
    """A validated experiment; see the module docstring for the TOML form.

    ``kernel`` is the resolved kernel module and ``model`` its analysis family
    (:mod:`ensemble.models`): resolved once, here, from the spec's ``kernel``.
    """

    kernel: KernelModule
    model: Model
    name: str
    description: str
    seed: int
    realizations: Any  # as given: an int, or {"by": name, "values": [...]}
    batch_size: int | None  # as given; None: tasks sized from the cost estimate (ensemble.running.scheduling)
    block_size: int | None  # as given; None: ceil(realizations / 100) per point
    fixed: dict
    sweep: dict
    times: dict
    fit: Any  # the model's settings dataclass, from [fit]
    points: tuple[Point, ...]
    source: str = ""
    linked: dict = dataclasses.field(default_factory=dict)  # [sweep.zip]: name -> values, one per row
    scheduling: Scheduling = dataclasses.field(default_factory=Scheduling)  # [scheduling]: task sizes
    precision: Precision | None = None  # [precision]: run each point to an error bar (ensemble.running.precision)
    distributions: tuple = ()  # [distributions]: ensemble.spec.distributions.Distribution, one per observable
    scaling: Scaling | None = None  # [scaling]: finite-size scaling of one observable (ensemble.analysis.scaling)
    refine: Any = None  # [refine]: ensemble.spec.refine.Refine, a sweep that refines itself (ensemble.running.refine)
    #: What limits the physics of some points at their size (the kernel's ``resolution``), one line each, said
    #: before anything runs; their fits rows are marked "at resolution limit".
    notes: tuple[str, ...] = ()

    def blocks_per_task(self, pt: Point) -> int | None:
        """Whole blocks per task the spec fixes: ``batch_size`` rounded up to whole blocks (None: automatic)."""
        return None if self.batch_size is None else -(-self.batch_size // pt.block_size)

    @property
    def total_realizations(self) -> int:
        return sum(p.realizations for p in self.points)

    @property
    def swept_names(self) -> list[str]:
        """Parameters that vary across points: [sweep] keys, then [sweep.zip] keys."""
        return list(self.sweep) + list(self.linked)

    @property
    def params_names(self) -> list[str]:
        """Every kernel parameter that is a table column: all but the sample times, and but a field added after runs
        existed (``Params.FINGERPRINT_OMIT_AT``, e.g. the disorder profile) while every point is at the value that
        behaves as before: the tables of a run that does not use it stay those it had before the field existed."""
        omit = self.kernel.fingerprint_omit_at
        return [n for n in self.kernel.param_names if n != "times"
                and not (n in omit and all(getattr(p.params, n) == omit[n] for p in self.points))]  # fmt: skip

    def results_hash(self) -> str:
        """Hash of everything the tables depend on (not batch size, not fit settings)."""
        doc = {
            "kernel": self.kernel.name,
            "seed": self.seed,
            "points": [[identifying_params(self.kernel, p.params), p.realizations, p.block_size] for p in self.points],
        }
        if self.distributions:
            doc["distributions"] = dist_digest(self.distributions)
        if self.precision is not None:  # the goal decides how many realizations each point gets
            doc["precision"] = self.precision.to_dict()
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()

    def to_dict(self) -> dict:
        """A JSON-ready description (for the run manifest)."""
        return {
            "kernel": self.kernel.name,
            "model": self.model.name,
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "realizations": self.realizations,
            "batch_size": self.batch_size,
            **({"scheduling": to_dict(self.scheduling)} if self.scheduling != Scheduling() else {}),
            "block_size": self.block_size,
            "params": self.fixed,
            "sweep": {k: list(v) for k, v in self.sweep.items()},
            **({"zip": {k: list(v) for k, v in self.linked.items()}} if self.linked else {}),
            "times": self.times,
            "fit": to_dict(self.fit),
            **({"distributions": dist_dict(self.distributions)} if self.distributions else {}),
            **({"precision": self.precision.to_dict()} if self.precision is not None else {}),
            **({"scaling": self.scaling.to_dict()} if self.scaling is not None else {}),
        }


def load_spec(path: str | Path) -> Experiment:
    """Read and validate a TOML spec file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SpecError("spec file", str(path), f"a readable TOML file ({e.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError("spec file", str(path), f"UTF-8 text, as TOML requires (byte 0x{raw[e.start]:02x} at offset {e.start} is not)") from None
    return parse_spec(text, name=path.stem)


def parse_spec(text: str, name: str = "experiment", recorded: bool = False) -> Experiment:
    """Validate spec text; raise SpecError on the first problem found. ``recorded``: the text a run recorded, which
    an earlier version accepted: checks added since (a block size leaving a point one block, reserved column names)
    do not refuse it, so the run still opens, resumes and refits."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError("spec", "(TOML text)", f"valid TOML; the parser says: {e}") from None
    _check_keys("", doc, TOP_KEYS)
    kernel, model = resolve_kernel(_required(doc, "kernel"))
    pnames = kernel.param_names
    fixed = _table(doc, "params")
    sweep = dict(_table(doc, "sweep"))
    linked = sweep.pop(ZIP, None)
    for k, v in fixed.items():
        _check_param_name("params", k, v, pnames)
    for k, v in sweep.items():
        _check_param_name("sweep", k, v, pnames)
        _check_sweep_values(k, v)
        if k in fixed:
            raise SpecError(f"sweep.{k}", v, f"a parameter either in [params] or in [sweep], not both ({k} is in both)")
    linked = _linked(linked, pnames, fixed, sweep)
    count_of, counts = _realizations(doc, sweep, linked)
    batch_size = _int(doc, "batch_size", 1, None) if "batch_size" in doc else None
    scheduling = check_scheduling(doc.get("scheduling"))
    block_size = _int(doc, "block_size", 1, None) if "block_size" in doc else None
    check_points(math.prod(len(v) for v in sweep.values()) * (len(next(iter(linked.values()))) if linked else 1))
    seed = _int(doc, "seed", 0, None)
    if kernel.has_times:
        if "times" not in doc and not kernel.default_times:
            raise SpecError("times", None, f"a [times] section (kernel {kernel.name} declares no DEFAULT_TIMES), e.g. [times] with values = [1.0, 10.0]")
        times = _times_spec(_table(doc, "times"), kernel.default_times or {})
    elif "times" in doc:
        raise SpecError("times", doc["times"], f"no [times] section: kernel {kernel.name} has no sample times")
    else:
        times = {}
    fit = model.settings(_table(doc, "fit"))
    points = _points(kernel, fixed, sweep, linked, times, count_of, block_size)
    from ensemble.spec.columns import check_column_names

    if not recorded:
        check_column_names(kernel, points[0].params)
    distributions = parse_distributions(doc.get("distributions"), kernel, points[0].params)
    precision = parse_precision(doc.get("precision"), kernel, model, points, lambda pt: pt.block_size, fit, seed)
    scaling = parse_scaling(doc.get("scaling"), kernel, model, points, {**sweep, **linked})
    from ensemble.spec.refine import parse_refine

    refine = parse_refine(doc.get("refine"), scaling, sweep, linked, doc["realizations"], precision, points)
    if not recorded and precision is None and refine is None:  # a goal grows the points by whole blocks
        _check_blocks(points, block_size)
    exp = Experiment(
        kernel=kernel,
        model=model,
        name=_run_name(doc, name),
        description=_string(doc, "description", ""),
        seed=seed,
        realizations=doc["realizations"],
        batch_size=batch_size,
        scheduling=scheduling,
        block_size=block_size,
        fixed=dict(fixed),
        sweep={k: tuple(v) for k, v in sweep.items()},
        times=times,
        fit=fit,
        points=points,
        source=text,
        linked={k: tuple(v) for k, v in linked.items()},
        distributions=distributions,
        precision=precision,
        scaling=scaling,
        refine=refine,
        notes=time_notes(times, points, kernel.time_step) + resolution_notes(kernel, points),
    )
    model.check(exp)
    check_size(exp)
    return exp


def resolution_notes(kernel: KernelModule, points) -> tuple[str, ...]:
    """The kernel's ``resolution`` lines of every point, each line once with the points it concerns."""
    by_line: dict[str, list[str]] = {}
    for pt in points:
        for line in kernel.resolution(pt.params):
            by_line.setdefault(str(line), []).append(pt.label or "the only point")
    out = []
    for line, where in by_line.items():
        shown = ", ".join(where[:4]) + (f" and {len(where) - 4} more" if len(where) > 4 else "")
        out.append(f"{line} (at {shown}); its fits are marked 'at resolution limit'")
    return tuple(out)


def time_notes(times: dict, points, step_name: str | None) -> tuple[str, ...]:
    """A log grid that snapping to the kernel's time step collapsed (fewer distinct times than ``num``): said."""
    if not times or "num" not in times or step_name is None:
        return ()
    got = sorted({len(pt.params.times) for pt in points})
    if got[0] >= times["num"]:
        return ()
    counts = f"{got[0]}" if len(got) == 1 else f"{got[0]}..{got[-1]}"
    return (f"times.num = {times['num']} gives {counts} distinct sample times: a log grid from {times['start']:g} to "
            f"{times['stop']:g} snapped to multiples of the time step ({step_name}) has no more (its early times "
            "share steps); ask for fewer, a later start, or times.values",)


def with_recorded_kernel(exp: Experiment, recorded: str | None) -> Experiment:
    """``exp`` with the kernel name a run recorded, where an earlier version named the same kernel module otherwise
    (``"module:path"`` for a kernel that declares a NAME): its point keys follow, so the run's partials stay its
    own, whichever way the spec names the kernel. A recorded name of another module changes nothing (the run's
    checks then refuse the spec)."""
    from ensemble.models import same_kernel

    if not recorded or recorded == exp.kernel.name or not same_kernel(recorded, exp.kernel):
        return exp
    kernel = dataclasses.replace(exp.kernel, name=recorded)
    points = tuple(dataclasses.replace(p, key=point_key(kernel, p.params)) for p in exp.points)
    return dataclasses.replace(exp, kernel=kernel, points=points)


def with_block_sizes(exp: Experiment, sizes: dict[int, int]) -> Experiment:
    """``exp`` with the block size of each point whose key is in ``sizes`` replaced (a run's recorded layout)."""
    points = tuple(dataclasses.replace(p, block_size=int(sizes[p.key])) if p.key in sizes else p for p in exp.points)
    return dataclasses.replace(exp, points=points)


def with_recorded_times(exp: Experiment, fingerprints: dict[int, str]) -> Experiment:
    """``exp`` with the sample times a run recorded, where they were those of an earlier version.

    Up to 0.1.x log-spaced times came from NumPy's vector math, which differs in the last bit between CPUs
    (:func:`log_grid`). A run made so is bound to those times (every partial's fingerprint holds them); at each
    point whose recorded fingerprint (``fingerprints``, by point key) matches the times this machine's NumPy
    gives and not the present ones, those times are used, so the run's partials stay valid: it reads, refits,
    resumes and grows as before wherever NumPy computes them as where the run was made.
    """
    from ensemble.spec.seeding import fingerprint

    if not exp.times or "values" in exp.times or not fingerprints:
        return exp
    step_name = exp.kernel.time_step
    points = []
    for pt in exp.points:
        want = fingerprints.get(pt.key)
        if want is not None and want != fingerprint(exp.kernel, pt.params):
            step = _time_step(getattr(pt.params, step_name, None)) if step_name else None
            times = resolve_times(exp.times, step, legacy_grid)
            old = dataclasses.replace(pt.params, times=times)
            if fingerprint(exp.kernel, old) == want:
                pt = dataclasses.replace(pt, params=old)
        points.append(pt)
    return dataclasses.replace(exp, points=tuple(points))


def with_fit(exp: Experiment, overrides: dict, base: dict | None = None) -> Experiment:
    """``exp`` with [fit] settings replaced (validated as if written in the spec).

    ``overrides`` go on top of ``base`` (default: the spec's own [fit] table).
    A new ``min_start`` without a new ``window`` drops a fixed window, so the
    automatic choice applies again.
    """
    table = {**(tomllib.loads(exp.source).get("fit", {}) if base is None else base), **overrides}
    if "min_start" in overrides and "window" not in overrides:
        table.pop("window", None)
    new = dataclasses.replace(exp, fit=exp.model.settings(table))
    exp.model.check(new)
    return new


# -- pieces ---------------------------------------------------------------------


def _check_keys(where: str, table: dict, allowed) -> None:
    for k in table:
        if k not in allowed:
            hint = did_you_mean(k, allowed)
            field = f"{where}.{k}" if where else k
            raise SpecError(field, table[k], f"{hint}unknown key; known keys{' of [' + where + ']' if where else ''}: {', '.join(allowed)}")


def _check_param_name(section: str, k: str, value: object, pnames: list[str]) -> None:
    if k == "times":
        raise SpecError(f"{section}.times", value, "sample times go in the [times] section")
    if k not in pnames:
        names = [n for n in pnames if n != "times"]
        raise SpecError(f"{section}.{k}", value, f"{did_you_mean(k, names)}parameters of this kernel: {', '.join(names)}")


def _check_sweep_values(k: str, v: object) -> None:
    if not isinstance(v, list) or not v:
        raise SpecError(f"sweep.{k}", v, f"a non-empty list of values, e.g. {k} = [3.0, 5.0]")
    if any(isinstance(x, (list, dict)) for x in v):
        raise SpecError(f"sweep.{k}", v, "a list of plain numbers")
    if len({json.dumps(x) for x in v}) != len(v):
        raise SpecError(f"sweep.{k}", v, "distinct values (a repeated value repeats the same realizations)")


ZIP = "zip"


def _linked(table: object, pnames: list[str], fixed: dict, sweep: dict) -> dict:
    """Validate [sweep.zip]: parameters that take their values together, row by row."""
    if table is None:
        return {}
    example = "[sweep.zip] with L = [10, 12] and n_goe = [4, 0]"
    if not isinstance(table, dict) or not table:
        raise SpecError("sweep.zip", table, f"a table of equally long lists, e.g. {example}")
    rows = None
    for k, v in table.items():
        _check_param_name("sweep.zip", k, v, pnames)
        if not isinstance(v, list) or not v or any(isinstance(x, (list, dict)) for x in v):
            raise SpecError(f"sweep.zip.{k}", v, f"a non-empty list of plain values, e.g. {example}")
        if k in fixed or k in sweep:
            raise SpecError(f"sweep.zip.{k}", v, f"a parameter in one place only ({k} is also in [{'params' if k in fixed else 'sweep'}])")
        if rows is not None and len(v) != rows:
            raise SpecError(f"sweep.zip.{k}", v, f"{rows} values, as many as the other lists of [sweep.zip]")
        rows = len(v)
    keys = [json.dumps([table[k][i] for k in table]) for i in range(rows)]
    if len(set(keys)) != rows:
        raise SpecError("sweep.zip", table, "distinct rows (a repeated row repeats the same realizations)")
    return dict(table)


def _default_block(n: int) -> int:
    return max(1, -(-n // DEFAULT_BLOCKS))


def _realizations(doc: dict, sweep: dict, linked: dict) -> tuple[Callable[[dict], int], list[int]]:
    """Realizations of a point (a function of its swept values), and all the counts.

    ``by`` names a swept parameter (one count per value) or one of [sweep.zip]
    (one count per row of the zip table).
    """
    v = _required(doc, "realizations")
    if not isinstance(v, dict):
        n = _int(doc, "realizations", 1, None)
        return (lambda swept: n), [n]
    example = '{ by = "L", values = [500, 300, 100] }'
    _check_keys("realizations", v, ("by", "values"))
    by, values = v.get("by"), v.get("values")
    if by in linked:
        rows = len(linked[by])
        if not isinstance(values, list) or len(values) != rows:
            raise SpecError("realizations.values", values, f"one count per row of [sweep.zip] ({rows} rows)")
        if any(isinstance(n, bool) or not isinstance(n, Integral) or n < 1 for n in values):
            raise SpecError("realizations.values", values, "integers >= 1")
        names = list(linked)
        table = {json.dumps([linked[k][i] for k in names]): int(values[i]) for i in range(rows)}
        return (lambda swept: table[json.dumps([swept[k] for k in names])]), [int(n) for n in values]
    if by not in sweep:
        raise SpecError("realizations.by", by, f"a swept parameter ({', '.join(sweep) or 'none is swept'}), e.g. {example}")
    if not isinstance(values, list) or len(values) != len(sweep[by]):
        raise SpecError("realizations.values", values, f"one count per value of sweep.{by} ({len(sweep[by])} values)")
    if any(isinstance(n, bool) or not isinstance(n, Integral) or n < 1 for n in values):
        raise SpecError("realizations.values", values, "integers >= 1")
    table = {json.dumps(k): int(n) for k, n in zip(sweep[by], values)}
    return (lambda swept: table[json.dumps(swept[by])]), list(table.values())


def _required(doc: dict, key: str):
    if key not in doc:
        raise SpecError(key, None, f"a value; {key!r} is required")
    return doc[key]


def _table(doc: dict, key: str) -> dict:
    v = doc.get(key, {})
    if not isinstance(v, dict):
        raise SpecError(key, v, f"a [{key}] table")
    return v


def _int(doc: dict, key: str, minimum: int, default: int | None) -> int:
    v = doc.get(key, default) if default is not None else _required(doc, key)
    if isinstance(v, bool) or not isinstance(v, Integral) or v < minimum:
        raise SpecError(key, v, f"an integer >= {minimum}")
    return int(v)


def _run_name(doc: dict, default: str) -> str:
    """The run's name: it names the default output directory runs/<name>, so it must be one path component."""
    name = _string(doc, "name", default)
    bad = not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name or name != name.strip()
    if bad:
        raise SpecError("name", name, 'a single directory name (no "/", not "." or "..", no leading or trailing spaces), e.g. name = "fig4a"')
    return name


def _string(doc: dict, key: str, default: str) -> str:
    v = doc.get(key, default)
    if not isinstance(v, str):
        raise SpecError(key, v, "a string")
    return v


def _number(field: str, v: object, positive: bool = True) -> float:
    if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or (positive and v <= 0):
        raise SpecError(field, v, "a finite number > 0" if positive else "a finite number")
    return float(v)


def _times_spec(table: dict, default: dict) -> dict:
    """Normalize [times] to {"values": [...]} or {"start", "stop", "num"}."""
    _check_keys("times", table, TIMES_KEYS)
    if "values" in table:
        extra = [k for k in table if k != "values"]
        if extra:
            raise SpecError(f"times.{extra[0]}", table[extra[0]], "either times.values or start/stop/num, not both")
        v = table["values"]
        if not isinstance(v, list) or not all(isinstance(x, Real) and not isinstance(x, bool) for x in v):
            raise SpecError("times.values", v, "a list of numbers, e.g. values = [1.0, 10.0, 100.0]")
        if len(v) > MAX_TIMES:
            raise SpecError("times.values", f"{len(v)} values", f"at most {MAX_TIMES} sample times")
        return {"values": [float(x) for x in v]}
    spec = {**default, **table}
    for k in ("start", "stop", "num"):
        if k not in spec:
            raise SpecError(f"times.{k}", None, "a value (this kernel has no default times), or times.values = [...]")
    start = _number("times.start", spec["start"])
    stop = _number("times.stop", spec["stop"])
    if stop <= start:
        raise SpecError("times.stop", spec["stop"], f"a time > times.start = {start:g}")
    num = spec["num"]
    if isinstance(num, bool) or not isinstance(num, Integral) or num < 2:
        raise SpecError("times.num", num, "an integer >= 2")
    if num > MAX_TIMES:
        raise SpecError("times.num", num, f"at most {MAX_TIMES} sample times (a log grid needs far fewer: ~10 per decade)")
    return {"start": start, "stop": stop, "num": int(num)}


_DIGITS = decimal.Context(prec=40)


def log_grid(start: float, stop: float, num: int) -> np.ndarray:
    """``np.geomspace(start, stop, num)`` computed the same on every machine.

    NumPy's ``log10`` and ``power`` run the CPU's vector math, which differs in the last bit between CPUs (an AMD
    EPYC and the machine that recorded ``tests/fixtures/example_keys.json`` disagreed at one of the 30 times of
    two example specs). The times
    enter every fingerprint and the results hash, so a run started on one machine would not resume on another.
    Here the same steps as NumPy's (``y = linspace(log10 start, log10 stop)``, ``10**y``, the end points set to
    start and stop) use correctly rounded decimal arithmetic for the two transcendental steps and IEEE
    arithmetic, which is exact and the same everywhere, for the rest.
    """
    lo = float(_DIGITS.log10(decimal.Decimal(start)))
    hi = float(_DIGITS.log10(decimal.Decimal(stop)))
    step = (hi - lo) / (num - 1)
    t = [float(_DIGITS.power(10, decimal.Decimal(lo + i * step))) for i in range(num)]
    t[0], t[-1] = float(start), float(stop)
    return np.array(t)


def _time_step(value) -> float | None:
    """A kernel's time step as the times snap to it: a positive number, else None (no snapping; the kernel's
    Params then says what is wrong with the value)."""
    return float(value) if isinstance(value, Real) and not isinstance(value, bool) and value > 0 else None


def legacy_grid(start: float, stop: float, num: int) -> np.ndarray:
    """The log grid as versions up to 0.1.x computed it: NumPy's own, whose last bits depend on the CPU."""
    return np.geomspace(start, stop, num)


def resolve_times(times: dict, step: float | None, grid: Callable | None = None) -> tuple[float, ...]:
    """Sample times of one point: explicit values, or a log grid snapped to multiples of the kernel's time step."""
    if "values" in times:
        return tuple(times["values"])
    t = (grid or log_grid)(times["start"], times["stop"], times["num"])
    if step is None:
        return tuple(float(x) for x in t)
    steps = np.unique(np.maximum(1, np.rint(t / step))).astype(np.int64)
    return tuple(float(f"{n * step:.12g}") for n in steps)


def _points(kernel: KernelModule, fixed: dict, sweep: dict, linked: dict, times: dict, count_of, block_size) -> tuple[Point, ...]:
    names = list(sweep)
    rows = [dict(zip(linked, vals)) for vals in zip(*linked.values())] if linked else [{}]
    points, seen = [], {}
    for i, (combo, row) in enumerate(itertools.product(itertools.product(*(sweep[k] for k in names)), rows)):
        swept = {**dict(zip(names, combo)), **row}
        kw = {**fixed, **swept}
        step = kw.get(kernel.time_step, _default(kernel.Params, kernel.time_step)) if kernel.time_step else None
        try:
            if times:  # a kernel with sample times
                kw["times"] = resolve_times(times, _time_step(step))
            params = kernel.Params(**kw)
        except ParameterError as e:
            raise SpecError(_field_of(e.field, fixed, sweep, times, linked), e.value, e.allowed) from None
        except Exception as e:  # a user's Params that validates with exceptions of its own
            where = ", ".join(f"{k} = {v!r}" for k, v in swept.items()) or "the fixed parameters"
            raise SpecError("params", where, f"values kernel {kernel.name} accepts: its Params raised "
                                             f"{type(e).__name__}: {' '.join(str(e).split())}") from None  # fmt: skip
        key = point_key(kernel, params)
        drawn = draw_key(kernel, params)
        if key in seen:
            raise _duplicate(seen[key], swept, sweep, linked)
        seen[key] = swept
        n = count_of(swept)
        # a string the kernel rewrote to its canonical text (a profile "clean 6" -> "6=0.0") is swept as that
        # text: the tables hold it, so labels and the queries the CLI suggests match their rows
        swept = {k: getattr(params, k) if isinstance(v, str) and isinstance(getattr(params, k, None), str) else v
                 for k, v in swept.items()}  # fmt: skip
        points.append(
            Point(
                index=i,
                params=params,
                key=key,
                swept=swept,
                realizations=n,
                block_size=block_size or _default_block(n),
                draw_key=None if drawn == key else drawn,
            )
        )
    return tuple(points)


def _check_blocks(points, block_size: int | None) -> None:
    """A block size the spec sets must leave every point of two or more realizations at least two blocks: with one,
    no block can be left out and every jackknife error is NaN."""
    if block_size is None:
        return
    for pt in points:
        if pt.realizations >= 2 and pt.n_blocks < 2:
            raise SpecError("block_size", block_size, f"at most {pt.realizations - 1}: point {pt.index} "
                            f"({pt.label or 'no sweep'}) has {pt.realizations} realizations, and every point needs at "
                            "least two blocks for its jackknife errors")  # fmt: skip


def _duplicate(first: dict, second: dict, sweep: dict, linked: dict) -> SpecError:
    """Two sweep entries that are the same point once validated (2 and 2.0, or a repeated zip row)."""
    differ = [k for k in second if first[k] != second[k] or type(first[k]) is not type(second[k])]
    k = differ[0] if differ else next(iter(second))
    field = f"sweep.zip.{k}" if k in linked else f"sweep.{k}"
    values = linked.get(k) or sweep.get(k)
    return SpecError(field, list(values), f"distinct points: {first[k]!r} and {second[k]!r} are the same point "
                                          f"({', '.join(f'{a} = {v!r}' for a, v in second.items())}); list each point once")


def _default(cls, name: str):
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.default
    return None


def _field_of(param: str, fixed: dict, sweep: dict, times: dict, linked: dict | None = None) -> str:
    if param == "times":
        return "times.values" if "values" in times else "times"
    if linked and param in linked:
        return f"sweep.zip.{param}"
    if param in sweep:
        return f"sweep.{param}"
    if param in fixed:
        return f"params.{param}"
    return f"params.{param} (default)"


def with_control_values(exp: Experiment, name: str, values) -> Experiment:
    """``exp`` with the swept parameter ``name`` (of [sweep]) over ``values`` instead (sorted; a refined sweep,
    :mod:`ensemble.running.refine`): the points are made as the spec makes them, so a point of a value the spec
    had is the same point (key, realizations, block size), and a new value's points start as the spec's do."""
    values = tuple(sorted(float(v) for v in values))
    sweep = {k: (values if k == name else tuple(v)) for k, v in exp.sweep.items()}
    doc = {"realizations": exp.realizations}
    count_of, _ = _realizations(doc, {k: list(v) for k, v in sweep.items()}, {k: list(v) for k, v in exp.linked.items()})
    points = _points(exp.kernel, exp.fixed, sweep, exp.linked, exp.times, count_of, exp.block_size)
    return dataclasses.replace(exp, sweep=sweep, points=points)
