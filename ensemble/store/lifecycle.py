"""A run directory's lifecycle: what a directory is for a spec (new, resume, grow, replace), the checks before anything
is written (room, writability), creating or reopening it under its lock, and growing its record."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from ensemble.errors import RunDirectoryError
from ensemble.store.files import atomic_write, makedirs
from ensemble.store.lock import RunLock, _command, _now
from ensemble.spec.provenance import environment
from ensemble.store.layout import ENTRIES, FORMAT, Layout, block_sizes, read_record, recorded_fingerprints, write_record
from ensemble.spec.seeding import canonical_params, fingerprint
from ensemble.store.stores import DirectoryStore

__all__ = ["adopt_layout", "check_run_dir", "estimated_bytes", "growth", "open_run_dir", "preflight", "record_costs", "record_precision",
           "write_manifest"]  # fmt: skip


def check_run_dir(path: str | Path, exp, resume: bool, drop_points: bool = False) -> str:
    """What ``path`` is for a run of ``exp``: "new", "resume" (it holds this run), "grow" or "replace".

    "grow": it holds an earlier form of this run that ``exp`` extends: more
    realizations at some points (the same block layout), points added, points
    dropped if ``drop_points`` (see :func:`growth`). "replace": it holds a run
    that never finished a block: nothing would be lost by starting over.
    Raises RunDirectoryError, touching nothing, if the directory holds another
    spec's run, or a run and ``resume`` is False, or files that are not a run's.
    """
    path = Path(path)
    if Layout(path).record.exists():
        old = read_record(path)
        same = old.get("results_hash") == exp.results_hash()
        if not Layout(path).has_partials() and not (same and resume):
            return "replace"
        if not resume:
            raise RunDirectoryError(f"{path} already holds a run; add --resume to finish it, or choose another --out")
        if same:
            return "resume"
        growth(old, exp, drop_points, path)  # raises, naming the point and why, if this is not a growth
        return "grow"
    if path.exists() and not path.is_dir():
        raise RunDirectoryError(f"{path} exists and is not a directory; choose another --out")
    if path.exists() and any(p != Layout(path).lock for p in path.iterdir()):
        raise RunDirectoryError(f"{path} exists and is not a run directory; choose a new or empty --out")
    return "new"


def growth(old: dict, exp, drop_points: bool = False, path: Path | str = "the run directory") -> dict:
    """How ``exp`` extends the run recorded in ``old`` (run.json), or RunDirectoryError saying why it does not.

    A run may grow by more realizations at a point (its block size unchanged,
    so every finished block is reused), by new points, and, with
    ``drop_points``, by leaving points out (their partials stay on disk,
    unused). The seed, the kernel and every kept point's parameters and
    sample times must be the run's. Returns ``{"more": [...], "added": [...],
    "dropped": [...]}`` (point labels and counts) for the run's history.
    """
    spec = old.get("spec", {})
    recorded = {p["key"]: p for p in old.get("points", [])}
    fix = f"resume it with its own spec ({Path(path) / 'spec.toml'}) or choose another --out"
    if spec.get("seed") != exp.seed or spec.get("kernel") != exp.kernel.name:
        raise RunDirectoryError(f"{path} holds a run of another kernel or seed; {fix}")
    if spec.get("distributions", {}) != exp.to_dict().get("distributions", {}):
        raise RunDirectoryError(f"{path}: the spec asks for other [distributions] than the run kept; finished blocks "
                                "hold the run's, so use a new --out (or the run's [distributions])")  # fmt: skip
    if any("fingerprint" not in p for p in recorded.values()):
        raise RunDirectoryError(f"{path} was made by an older version that did not record its block layout, so it "
                                f"cannot grow; {fix}")  # fmt: skip
    plan = {"more": [], "added": [], "dropped": []}
    new_keys = set()
    for pt in exp.points:
        key = f"{pt.key:016x}"
        new_keys.add(key)
        was = recorded.get(key)
        if was is None:
            plan["added"].append(pt.label or "the point")
            continue
        where = f"point {pt.label or 'the only point'}"
        if was["fingerprint"] != fingerprint(exp.kernel, pt.params):
            raise RunDirectoryError(
                f"{path}: {where} has other parameters or sample times than the run's; finished blocks hold the run's "
                "times and would all be recomputed, so use a new --out (the same seed gives the same disorder and "
                "noise: a longer time range extends the same trajectories)"
            )
        if was["block_size"] != pt.block_size:
            raise RunDirectoryError(f"{path}: {where} has blocks of {pt.block_size} realizations, the run {was['block_size']}; "
                                    f"grow it with the run's (block_size = {was['block_size']}, or ensemble extend)")  # fmt: skip
        if pt.realizations < was["realizations"]:
            raise RunDirectoryError(f"{path}: {where} asks for {pt.realizations} realizations, the run has "
                                    f"{was['realizations']}; a run can grow, not shrink")  # fmt: skip
        if pt.realizations > was["realizations"]:
            plan["more"].append(f"{pt.label or 'the point'}: {was['realizations']} -> {pt.realizations}")
    dropped = [str(p.get("swept") or p["key"]) for k, p in recorded.items() if k not in new_keys]
    if dropped and not drop_points:
        raise RunDirectoryError(f"{path}: the spec leaves out {len(dropped)} point(s) of the run ({', '.join(dropped[:3])}"
                                f"{', ...' if len(dropped) > 3 else ''}); add --drop-points to leave their partials unused")  # fmt: skip
    plan["dropped"] = dropped
    return plan


def adopt_layout(path: str | Path, exp):
    """``exp`` with the block size the run in ``path`` recorded for each of its points (when the spec sets none),
    the sample times where the run has an earlier version's (:func:`ensemble.spec.experiment.with_recorded_times`) and the
    kernel name it recorded for the same module (:func:`ensemble.spec.experiment.with_recorded_kernel`).

    Default block sizes depend on the realizations (ceil(N / 100)); a run that
    grows keeps its own, so every finished block stays valid.
    """
    from ensemble.spec.experiment import with_block_sizes, with_recorded_kernel, with_recorded_times

    doc = read_record(path)
    exp = with_recorded_kernel(exp, doc.get("spec", {}).get("kernel"))
    exp = with_recorded_times(exp, recorded_fingerprints(doc))
    recorded = block_sizes(doc)
    if exp.block_size is not None or not recorded:
        return exp
    return with_block_sizes(exp, recorded)


def estimated_bytes(exp) -> int:
    """Disk space the run's partials and tables will take (an upper estimate)."""
    total = 0
    for pt in exp.points:
        values = sum(int(np.prod([len(c) for c in axes.values()])) for axes in exp.kernel.schema(pt.params).values())
        total += pt.n_blocks * (16 * values + 64) + 4096 * pt.n_blocks + 200 * values  # moments, counts, files, tables
    return total


def preflight(path: str | Path, exp) -> None:
    """Refuse, before anything is started or written, an output directory that cannot take the run.

    Checks that the directory (or the nearest existing parent) is a writable
    directory, by creating and removing a probe, and that its file system has
    room for the run's estimated output.
    """
    path = Path(path).absolute()
    base = path
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise RunDirectoryError(f"cannot create {path}: {base} is not a directory; choose another --out")
    try:
        probe = tempfile.mkdtemp(prefix=".ensemble-probe-", dir=base)
        os.rmdir(probe)
    except OSError as e:
        raise RunDirectoryError(f"cannot write in {base} ({e.strerror}); choose a writable --out") from None
    need, free = estimated_bytes(exp), shutil.disk_usage(base).free
    if need > free:
        raise RunDirectoryError(
            f"{base} has {free / 2**20:.1f} MiB free, the run needs about {need / 2**20:.1f} MiB; free space or choose another --out"
        )


def open_run_dir(path: str | Path, exp, resume: bool, drop_points: bool = False) -> DirectoryStore:
    """Create a run directory for ``exp``, or reopen it with ``resume`` (see :func:`check_run_dir`).

    A run that ``exp`` grows (more realizations, added points) keeps every
    finished block; its run.json and spec.toml are rewritten, the earlier spec
    kept as ``history/spec-<time>.toml`` and the change recorded in run.json's
    ``history``. The returned store holds the directory's lock until it is
    closed (or the process exits): a second writer is refused with the holder's name.
    """
    path = Path(path)
    check_run_dir(path, exp, resume, drop_points)  # refuse before creating anything
    preflight(path, exp)
    created = not path.exists()
    makedirs(path)
    lock = RunLock(path).acquire()  # refused if another process holds it: then the directory is not ours to remove
    try:
        state = check_run_dir(path, exp, resume, drop_points)  # again, now that no one else can change it
        if state == "replace":
            for name in ENTRIES:
                p = path / name
                if name != Layout(path).lock.name:
                    shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)
        if state == "grow":
            old = read_record(path)
            history = old.get("history", []) + [{"time": _now(), "command": _command(), **growth(old, exp, drop_points, path)}]
            layout = Layout(path)
            makedirs(layout.history)
            shutil.copy2(layout.spec, layout.history / f"spec-{_now().replace(':', '')}.toml")
            write_manifest(path, exp, created=old.get("created"), history=history, costs=old.get("costs"))
        elif state != "resume":
            write_manifest(path, exp)
    except BaseException:  # refused, or a signal: a directory this call made goes again, lock and all
        if created:
            discard_if_empty(path)
        lock.release()
        raise
    return DirectoryStore(path, lock)


def discard_if_empty(path: Path) -> None:
    """Remove a run directory if it holds no finished block (a run that failed or was stopped before its first)."""
    if path.is_dir() and not path.is_symlink() and not Layout(path).has_partials():
        shutil.rmtree(path, ignore_errors=True)


def write_manifest(path: Path, exp, created: str | None = None, history: list | None = None,
                   costs: dict | None = None) -> None:  # fmt: skip
    atomic_write(Layout(path).spec, lambda f: f.write(exp.source.encode()))
    doc = {
        "format": FORMAT,
        "results_hash": exp.results_hash(),
        "spec": exp.to_dict(),
        "source": exp.source,
        "points": [
            {"index": p.index, "key": f"{p.key:016x}", "swept": p.swept, "params": _jsonable(p.params),
             "realizations": p.realizations, "block_size": p.block_size,
             "fingerprint": fingerprint(exp.kernel, p.params)}
            for p in exp.points
        ],
        "environment": environment(),
        "created": created or _now(),
        "command": sys.argv,
        **({"history": history} if history else {}),
        **({"costs": costs} if costs else {}),  # what earlier sessions' realizations cost (ensemble.running.ledger)
    }
    write_record(path, doc)


def _jsonable(params) -> dict:
    d = canonical_params(params)
    d.pop("times", None)
    return d


def record_costs(path: str | Path, costs: dict) -> None:
    """Record in run.json what each point's realizations cost (:mod:`ensemble.running.ledger`; the caller holds
    the run's lock)."""
    record = read_record(path)
    record["costs"] = costs
    write_record(path, record)


def record_refine(path: str | Path, doc: dict) -> None:
    """Record in run.json what a refining run did (values added and why, each round's decisions, the outcome, the
    realizations each point reached); the caller holds the run's lock."""
    record = read_record(path)
    record["refine"] = doc
    write_record(path, record)


def record_precision(path: str | Path, doc: dict) -> None:
    """Record in run.json what a precision run reached (the caller holds the run's lock)."""
    record = read_record(path)
    record["precision"] = doc
    write_record(path, record)
