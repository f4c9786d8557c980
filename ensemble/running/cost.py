"""What one realization of each point costs: the kernel's calibrated model, or a measurement.

A kernel's ``cost(params)`` gives CPU seconds of one realization on the reference machine (see
:mod:`kernels._interface`). A kernel without one is *measured*, in a child process: its warm-up point runs
once (compiling it), then realizations of the spec's own points run, timed in CPU seconds, within a budget
of :data:`BUDGET` seconds; each point is measured once before any is measured again, up to :data:`REPEATS`
times, and points the budget did not reach get the mean of those it did. A realization still running after
:data:`PATIENCE` seconds is stopped and the estimate is that time (a lower bound, which the output says).
The draws come from seeds no run uses, the results are thrown away, and a realization that raises is left
out (the run reports its own failures). Measurements are kept for the life of the process, so
``validate``, the checks before a run and the run's progress bar share one.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["BUDGET", "PATIENCE", "REPEATS", "Estimate", "estimates"]

#: CPU seconds spent measuring a kernel without a cost model, per spec.
BUDGET = 5.0
#: Wall seconds a measurement may take before it is stopped (its estimate then a lower bound).
PATIENCE = 60.0
#: Realizations measured per point at most.
REPEATS = 3
#: Measurement seeds: spawn keys (point key, MEASURE + i), beyond any realization index of a run.
MEASURE = 2**63

_measured: dict[tuple, tuple[float, str]] = {}


@dataclass(frozen=True)
class Estimate:
    """One realization of one point: CPU seconds, peak bytes (None: not declared), and where the seconds come from."""

    seconds: float
    memory: int | None
    source: str  # "cost model", "measured", or "measured (at least: ...)"


def estimates(exp, budget: float = BUDGET, patience: float = PATIENCE) -> list[Estimate]:
    """An :class:`Estimate` per point of ``exp`` (in point order)."""
    kernel = exp.kernel
    memory = [kernel.memory_bytes(pt.params) for pt in exp.points]
    if kernel.declares_cost:
        return [Estimate(float(kernel.cost(pt.params)), m, "cost model") for pt, m in zip(exp.points, memory)]
    keys = [_key(exp, pt) for pt in exp.points]
    if any(k not in _measured for k in keys):
        _measure(exp, [pt for pt, k in zip(exp.points, keys) if k not in _measured], budget, patience)
    known = [_measured[k][0] for k in keys if k in _measured]
    fallback = (float(np.mean(known)), "measured at other points") if known else (1.0, "not measured (guess)")
    out = []
    for k, m in zip(keys, memory):
        seconds, source = _measured.get(k, fallback)
        out.append(Estimate(seconds, m, source))
    return out


def _key(exp, pt) -> tuple:
    from ensemble.spec.seeding import fingerprint

    return (exp.kernel.path, exp.kernel.name, exp.seed, pt.key, fingerprint(exp.kernel, pt.params))


def _measure(exp, points, budget: float, patience: float) -> None:
    """Time realizations of ``points`` in a child process; record the mean per point measured."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    work = [(pt.key, pt.params) for pt in points]
    child = ctx.Process(target=_child, args=(exp.kernel.path, exp.seed, work, budget, results), daemon=True)
    child.start()
    times: dict[int, list[float]] = {}
    deadline = time.monotonic() + patience
    started = None
    try:
        while True:
            try:
                msg = results.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            if msg[0] == "done":
                break
            if msg[0] == "start":
                started = (msg[1], time.monotonic())
            elif msg[0] == "took":
                times.setdefault(msg[1], []).append(msg[2])
                started = None
    finally:
        if child.is_alive():
            child.terminate()
        child.join(5)
    for pt in points:
        if pt.key in times:
            _measured[_key(exp, pt)] = (float(np.mean(times[pt.key])), "measured")
    if started is not None:  # stopped inside a realization: it takes at least this long
        key, since = started
        pt = next(p for p in points if p.key == key)
        if pt.key not in times:
            waited = time.monotonic() - since
            _measured[_key(exp, pt)] = (waited, f"measured (at least: stopped after {waited:.3g} s)")


def _child(path: str, seed: int, work: list, budget: float, results) -> None:
    from kernels._interface import load

    from ensemble.spec.seeding import realization_rng

    kernel = load(path)
    try:  # compile first (the kernel and the engine's seeding): not a realization's cost
        kernel.run(kernel.warmup_params(), realization_rng(seed, 0, MEASURE))
    except Exception:
        results.put(("done",))
        return
    spent = 0.0
    for round_ in range(REPEATS):
        for key, params in work:
            if spent >= budget:
                break
            results.put(("start", key))
            start = time.process_time()
            try:
                kernel.run(params, realization_rng(seed, key, MEASURE + round_))
            except Exception:  # the run reports its own failures; this realization is left out
                results.put(("took", -1, 0.0))
                continue
            took = time.process_time() - start
            spent += took
            results.put(("took", key, took))
    results.put(("done",))
