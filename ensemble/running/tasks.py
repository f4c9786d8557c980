"""Tasks: one parameter point x a run of whole jackknife blocks.

:func:`plan` lists the tasks still to do (skipping blocks a store already
holds); :func:`run_task` is what a worker executes: it draws and evolves each
realization in index order and returns per-block moments, never raw
per-realization arrays.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from kernels._interface import KernelModule, load

from ensemble.spec.distributions import derived_observables
from ensemble.errors import RealizationError
from ensemble.analysis.reduce import BlockMoments, NonFiniteSample, welford
from ensemble.spec.seeding import block_range, fingerprint, realization_rng
from ensemble.running.ledger import task_cost

__all__ = ["OutputError", "Task", "check_outputs", "plan", "run_task"]


@dataclass(frozen=True)
class Task:
    """Everything a worker needs to compute blocks ``[first_block, stop_block)`` of one point."""

    kernel: str  # the kernel's name (Dask keys, messages)
    module: str  # import path of the kernel module, imported by the worker
    params: Any
    point: int
    key: int
    seed: int
    first_block: int
    stop_block: int
    block_size: int
    realizations: int
    distributions: tuple = ()  # ensemble.spec.distributions.Distribution: arrays derived in the worker
    threads: int = 1  # BLAS threads of each realization (the executor's threads per worker)
    fingerprint: str = ""  # of the kernel and every parameter value (what its partial is bound to)
    draw_key: int | None = None  # key of the realization seeds when not ``key`` (Point.draw_key: paired fields)

    @property
    def seed_key(self) -> int:
        return self.key if self.draw_key is None else self.draw_key

    @property
    def name(self) -> str:
        """Deterministic name: point key and block range (file names, Dask keys)."""
        return f"{self.key:016x}-b{self.first_block:06d}-{self.stop_block:06d}"

    @property
    def indices(self) -> range:
        return range(self.first_block * self.block_size, min(self.stop_block * self.block_size, self.realizations))

    def blocks(self) -> Iterator[range]:
        for b in range(self.first_block, self.stop_block):
            yield block_range(b, self.block_size, self.realizations)


def plan(exp, done: dict[int, set[int]] | None = None, threads: int = 1, blocks: dict[int, int] | None = None) -> Iterator[Task]:
    """Tasks covering every block not in ``done`` (point key -> finished block indices).

    Points in sweep order; within a point, maximal runs of missing blocks are cut into tasks of
    ``blocks[point key]`` blocks (default: the spec's ``batch_size``, or the schedule for one worker,
    :func:`ensemble.running.scheduling.schedule`).
    """
    done = done or {}
    if blocks is None:
        from ensemble.running.scheduling import schedule

        blocks = schedule(exp, 1).blocks_per_task
    for pt in exp.points:
        have = done.get(pt.key, set())
        missing = [b for b in range(pt.n_blocks) if b not in have]
        bound = fingerprint(exp.kernel, pt.params)
        for first, stop in _runs(missing, blocks[pt.key]):
            yield Task(
                kernel=exp.kernel.name,
                module=exp.kernel.path,
                params=pt.params,
                point=pt.index,
                key=pt.key,
                seed=exp.seed,
                first_block=first,
                stop_block=stop,
                block_size=pt.block_size,
                realizations=pt.realizations,
                draw_key=pt.draw_key,
                distributions=exp.distributions,
                threads=threads,
                fingerprint=bound,
            )


def _runs(blocks: list[int], size: int) -> Iterator[tuple[int, int]]:
    """Split sorted block indices into consecutive runs of at most ``size``."""
    i = 0
    while i < len(blocks):
        j = i
        while j + 1 < len(blocks) and blocks[j + 1] == blocks[j] + 1 and j + 1 - i < size:
            j += 1
        yield blocks[i], blocks[j] + 1
        i = j + 1


def run_task(task: Task) -> BlockMoments:
    """Compute one task's blocks, with BLAS limited to ``task.threads`` threads (the run's threads per worker)."""
    kernel = load(task.module)
    blocks = []
    cpu_start = time.process_time()
    with _limit_threads(task.threads):
        for indices in task.blocks():
            try:
                blocks.append(welford(_block(task, kernel, indices)))
            except NonFiniteSample as e:
                r = indices[e.position]
                what = (f"returned values of {', '.join(e.names)} that overflow the accumulated moments (too large to "
                        "average in float64: rescale the observable, e.g. return its logarithm)") if e.overflow else \
                    f"returned non-finite values in {', '.join(e.names)}"  # fmt: skip
                raise RealizationError(_replay_hint(task, r, what), task.point, r) from None
    out = BlockMoments.from_moments(task.first_block, blocks)
    out.timing = task_cost(cpu_start)  # (CPU seconds, peak bytes): a measurement beside the moments, never in a table
    return out


#: Largest integer magnitude a float64 holds exactly (integer outputs are cast to float64).
EXACT_INT = 2**53


class OutputError(ValueError):
    """A realization's outputs do not match the kernel's declared schema (what, and what was expected)."""


def _axes_text(axes) -> str:
    return "a scalar" if not axes else "shape (" + ", ".join(f"{a}: {len(c)}" for a, c in axes.items()) + ")"


def check_outputs(obs, schema) -> dict[str, np.ndarray]:
    """One realization's outputs checked at the boundary, as float64 arrays; :class:`OutputError` on the first fault.

    ``obs`` must be a dict holding exactly the observables ``schema`` declares, each of real floating values (or
    integers or booleans, cast to float64 on purpose; integers beyond 2**53 are refused, as float64 would round
    them) with the declared shape. Finiteness is checked where the values are accumulated.
    """
    if isinstance(obs, dict) and obs.keys() == schema.keys():  # the common case, checked at no cost per realization
        shapes = _shapes(schema)
        fast = {}
        for name, v in obs.items():
            if type(v) is not np.ndarray or v.dtype != np.float64 or v.shape != shapes[name]:
                break
            fast[name] = v
        else:
            return fast
    if not isinstance(obs, Mapping):
        raise OutputError(f"returned {type(obs).__name__} {_short(obs)}; expected a dict of observable -> array "
                          f"({', '.join(schema) or 'none declared'})")  # fmt: skip
    missing = [k for k in schema if k not in obs]
    extra = [k for k in obs if k not in schema]
    if extra:
        raise OutputError(f"returned {', '.join(map(repr, extra[:3]))}, which schema() does not declare; expected "
                          f"exactly {', '.join(map(repr, schema)) or 'no observable'} (declare it in schema() or drop it)")  # fmt: skip
    if missing:
        raise OutputError(f"returned no {', '.join(map(repr, missing[:3]))}; schema() declares "
                          f"{', '.join(map(repr, schema))}")  # fmt: skip
    out = {}
    for name, axes in schema.items():
        v = obs[name]
        want = tuple(len(c) for c in axes.values())
        expected = f"real floating values of {_axes_text(axes)}"
        if isinstance(v, str | bytes) or v is None:
            raise OutputError(f"observable {name!r} is {type(v).__name__} {_short(v)}; expected {expected}")
        try:
            a = np.asarray(v)
        except (ValueError, TypeError) as e:
            raise OutputError(f"observable {name!r} is not an array ({' '.join(str(e).split())[:120]}); expected {expected}") from None
        kind = a.dtype.kind
        if kind == "c":
            raise OutputError(f"observable {name!r} is {a.dtype} (complex); expected {expected}: return its real part, "
                              "modulus or phase explicitly")  # fmt: skip
        if kind not in "fiub":
            raise OutputError(f"observable {name!r} has dtype {a.dtype}; expected {expected}")
        if a.shape != want:
            raise OutputError(f"observable {name!r} has shape {a.shape}; expected {_axes_text(axes)} = {want}, as schema() declares")
        if kind in "iu" and a.size and (int(a.max()) > EXACT_INT or int(a.min()) < -EXACT_INT):
            raise OutputError(f"observable {name!r} holds integers beyond 2**53, which float64 rounds; expected {expected}")
        out[name] = a if a.dtype == np.float64 else a.astype(np.float64)
    return out


_SHAPES: dict[int, tuple[object, dict[str, tuple[int, ...]]]] = {}


def _shapes(schema) -> dict[str, tuple[int, ...]]:
    """The declared shape of each observable (cached per schema object: a task's schema is made once per block)."""
    hit = _SHAPES.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = (schema, {name: tuple(len(c) for c in axes.values()) for name, axes in schema.items()})
        if len(_SHAPES) > 64:
            _SHAPES.clear()
        _SHAPES[id(schema)] = hit
    return hit[1]


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _block(task: Task, kernel: KernelModule, indices: Iterable[int]) -> Iterator[dict[str, np.ndarray]]:
    schema = kernel.schema(task.params)
    for r in indices:
        try:
            obs = kernel.run(task.params, realization_rng(task.seed, task.seed_key, r))
        except Exception as e:
            raise RealizationError(_replay_hint(task, r, f"raised {type(e).__name__}: {e}"), task.point, r) from e
        try:
            obs = check_outputs(obs, schema)
        except OutputError as e:
            raise RealizationError(_replay_hint(task, r, str(e)), task.point, r) from None
        if task.distributions:
            bad = [k for k, v in obs.items() if not np.all(np.isfinite(v))]
            if bad:  # before deriving from them (welford checks the plain case)
                raise RealizationError(_replay_hint(task, r, f"returned non-finite values in {', '.join(bad)}"), task.point, r)
            extra = derived_observables(task.distributions, obs, schema)
            zero = [k[4:] for k, v in extra.items() if k.startswith("log:") and not np.all(np.isfinite(v))]
            if zero:
                what = f"has a zero value of {', '.join(zero)}, whose typical value exp(mean log|x|) is then undefined"
                raise RealizationError(_replay_hint(task, r, what), task.point, r)
            obs = {**obs, **extra}
        yield obs


_controller: tuple[int, ThreadpoolController] | None = None


def _limit_threads(n: int):
    """threadpoolctl's limit on every BLAS/OpenMP pool, with the (1 ms) library scan redone only after new imports."""
    global _controller
    if _controller is None or _controller[0] != len(sys.modules):
        _controller = (len(sys.modules), ThreadpoolController())
    return _controller[1].limit(limits=n)


def _replay_hint(task: Task, r: int, what: str) -> str:
    return (
        f"kernel {task.kernel}, realization {r} of point {task.point} ({task.params}) {what}; "
        f"seed: SeedSequence({task.seed}, spawn_key=({task.seed_key}, {r}))"
    )
