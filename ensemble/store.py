"""Where partials and tables live: one interface, an in-memory and a directory backend.

Run directory layout::

    DIR/run.json                   spec (normalized), points, versions, git revision
    DIR/spec.toml                  the spec as given
    DIR/.lock                      held (flock) by the one process writing the directory
    DIR/partials/<key>/<task>.npz  per-task block moments, written atomically, with a checksum
    DIR/tables/*.parquet           summary, fits, and the model's own tables
    DIR/tables/manifest.json       what the tables were computed with (fit settings, partials, time)

Every partial is *bound* to what it was computed for: the root seed, the
kernel, the point key, the fingerprint of every parameter value (sample times
included) and the block size, stored inside the file under its checksum.
Every reader (``--resume``, the tables, ``ensemble fit``) takes block ranges
from the file's contents, not its name, and checks the binding against the
run's spec: a partial from another run (another seed, other parameters or
times, another block layout) is set aside as ``*.foreign`` and its blocks are
recomputed, never merged; a damaged one is set aside as ``*.corrupt``.
Entries of ``partials/`` that are not partial files are left alone.

Files are created with the permissions the umask allows (collaborators on a
shared file system can read them), written to a temporary file, fsynced and
renamed. A full disk stops the run with a message; finished blocks stay.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import hashlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .distributions import digest as dist_digest
from .errors import RunDirectoryError
from .files import FILE_MODE, StorageError
from .files import atomic_write as _atomic_write
from .files import makedirs as _makedirs
from .reduce import BlockMoments
from .rundir import ENTRIES, FORMAT, Layout, block_sizes, read_record, record_format, write_record
from .seeding import canonical_params, fingerprint

__all__ = [
    "FORMAT",
    "DirectoryStore",
    "MemoryStore",
    "RunLock",
    "StorageError",
    "binding",
    "check_run_dir",
    "environment",
    "estimated_bytes",
    "growth",
    "adopt_layout",
    "open_run_dir",
    "preflight",
    "versions",
]

DIST_NAME = "mbl-ensemble"


class CorruptPartial(RuntimeError):
    pass



# -- binding of partials to their run -----------------------------------------------------------


def binding(seed: int, kernel: str, key: int, params, block_size: int, distributions: tuple = ()) -> dict:
    """What a partial is computed for; stored in it and checked on every read."""
    out = {
        "format": FORMAT,
        "seed": int(seed),
        "kernel": kernel,
        "key": f"{key:016x}",
        "fingerprint": fingerprint(kernel, params),
        "block_size": int(block_size),
    }
    if distributions:
        out["distributions"] = dist_digest(distributions)
    return out


def _task_binding(task) -> dict:
    """What a partial was computed for, plus the BLAS threads it used (recorded, not required to match:
    LAPACK-heavy kernels may differ in the last bits between thread counts)."""
    return {**binding(task.seed, task.kernel, task.key, task.params, task.block_size, task.distributions),
            "threads": getattr(task, "threads", 1), "version": package_version()}  # fmt: skip


def package_version() -> str | None:
    """This package's version (recorded in every partial: a table says which versions its blocks came from)."""
    try:
        return metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:
        return None


def _mismatch(found: dict | None, blocks: BlockMoments, exp, pt) -> str | None:
    """Why a partial does not belong to point ``pt`` of ``exp`` (None: it does)."""
    return mismatch(found, blocks.first_block, blocks.counts, exp, pt)


def mismatch(found: dict | None, first: int, counts, exp, pt) -> str | None:
    """Why a partial holding blocks ``first, ...`` (``counts`` realizations each) and bound to ``found`` does not
    belong to point ``pt`` of ``exp`` (None: at least its first block does; :func:`usable_blocks` says how many)."""
    if found is not None:
        if int(found.get("format", 1)) > FORMAT:
            return f"written by a newer version of {DIST_NAME} (partial format {found.get('format')}, this one reads <= {FORMAT})"
        want = binding(exp.seed, exp.kernel.name, pt.key, pt.params, pt.block_size, exp.distributions)
        for field, why in (("seed", "another seed"), ("kernel", "another kernel"), ("key", "another point"),
                           ("fingerprint", "other parameters or sample times"), ("block_size", "another block size"),
                           ("distributions", "other [distributions]")):  # fmt: skip
            if found.get(field) != want.get(field):
                return why
    if first < 0 or first >= pt.n_blocks:
        return f"blocks {first}..{first + len(counts) - 1} outside 0..{pt.n_blocks - 1}"
    if usable_blocks(first, counts, pt) == 0:
        now = len(pt.block_range(first))
        if len(counts) == 1 and 0 < int(counts[0]) < now:
            return f"the run grew: its last block held {int(counts[0])} realizations and now holds {now}, so it is computed again"
        return "another block layout (realizations per block differ)"
    return None


def usable_blocks(first: int, counts, pt) -> int:
    """How many leading blocks of a partial (blocks ``first, first + 1, ...`` holding ``counts`` realizations) are
    blocks of point ``pt`` as it is now. A run that grew keeps every complete block; a last block that was short
    before the growth has more realizations now, so it (and only it) is computed again."""
    k = 0
    for b, n in enumerate(counts, start=first):
        if b >= pt.n_blocks or int(n) != len(pt.block_range(b)):
            break
        k += 1
    return k


def _cover(chunks: list[tuple[int, int, object]], n_blocks: int, key: int) -> list[tuple[int, int, object]]:
    """Pieces (start, stop, source) covering blocks 0..n_blocks-1 once, from possibly overlapping ranges.

    Blocks are deterministic, so where valid partials overlap (a batch rerun by a
    worker that outlived its driver) either copy is the same; each block is taken once.
    """
    pieces, expect = [], 0
    for first, stop, src in sorted(chunks, key=lambda c: (c[0], -c[1])):
        if stop <= expect:
            continue
        if first > expect:
            break
        pieces.append((expect, stop, src))
        expect = stop
    if expect < n_blocks:
        raise RunDirectoryError(f"point {key:016x}: blocks missing from block {expect}; run again with --resume")
    return pieces


# -- in memory ---------------------------------------------------------------------------------------


class MemoryStore:
    """Partials and tables held in memory (tests, notebooks)."""

    def __init__(self):
        self._partials: dict[int, dict[int, tuple[BlockMoments, dict]]] = {}
        self._tables: dict[str, pd.DataFrame] = {}
        self._records: dict[str, dict] = {}
        self.set_aside: list = []
        self.versions: set = set()
        self.path = None

    def put(self, task, blocks: BlockMoments) -> None:
        self._partials.setdefault(task.key, {})[blocks.first_block] = (blocks, _task_binding(task))

    def _valid(self, exp, pt) -> list[BlockMoments]:
        valid = [(b, found) for b, found in self._partials.get(pt.key, {}).values() if _mismatch(found, b, exp, pt) is None]
        self.versions.update(found.get("version") for _, found in valid)
        return [b.select(b.first_block, b.first_block + usable_blocks(b.first_block, b.counts, pt)) for b, _ in valid]

    def done_blocks(self, exp) -> dict[int, set[int]]:
        return {pt.key: {b for c in self._valid(exp, pt) for b in range(c.first_block, c.stop_block)} for pt in exp.points}

    def chunks(self, exp, pt) -> Iterator[BlockMoments]:
        valid = self._valid(exp, pt)
        for start, stop, c in _cover([(c.first_block, c.stop_block, c) for c in valid], pt.n_blocks, pt.key):
            yield c.select(start, stop)

    def put_table(self, name: str, df: pd.DataFrame) -> None:
        self._tables[name] = df.copy()

    def table(self, name: str) -> pd.DataFrame:
        return self._tables[name].copy()

    def drop_table(self, name: str) -> None:
        self._tables.pop(name, None)

    def put_record(self, name: str, doc: dict) -> None:
        self._records[name] = json.loads(json.dumps(doc))

    def record(self, name: str) -> dict | None:
        return self._records.get(name)


# -- a run directory ---------------------------------------------------------------------------------------


class DirectoryStore:
    """Partials as checksummed ``.npz`` files and tables as Parquet under a run directory.

    Parameters
    ----------
    path : path
    lock : RunLock, optional
        Held while the store writes; released by :meth:`close` (or at process exit).
    """

    def __init__(self, path: str | Path, lock: RunLock | None = None):
        self.path = Path(path)
        self.partials_dir = self.path / "partials"
        self.tables_dir = self.path / "tables"
        self.set_aside: list[tuple[Path, str]] = []
        self.strays: list[Path] = []
        #: Versions of the package that wrote the partials read so far (None: before versions were recorded).
        self.versions: set = set()
        self._lock = lock
        self._legacy = record_format(self.path) < 2

    @property
    def previous_holder(self) -> str | None:
        """Who held the run's lock last without releasing it (a driver that was killed), if anyone."""
        return self._lock.previous if self._lock is not None else None

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- partials --------------------------------------------------------------
    def _file(self, key: int, name: str) -> Path:
        return self.partials_dir / f"{key:016x}" / f"{name}.npz"

    def put(self, task, blocks: BlockMoments) -> None:
        arrays = _pack(blocks, _task_binding(task))
        target = self._file(task.key, task.name)
        _makedirs(target.parent)
        _atomic_write(target, lambda f: np.savez(f, **arrays))

    def _point_files(self, pt) -> list[Path]:
        d = self.partials_dir / f"{pt.key:016x}"
        if not d.is_dir():
            return []
        for tmp in d.glob(".*.tmp"):  # left by a writer that died mid-write
            tmp.unlink(missing_ok=True)
        files = []
        for p in sorted(d.iterdir()):
            if p.suffix == ".npz" and p.is_symlink():  # its contents can change behind the run's back
                self._set_aside(p, ".foreign", f"a symbolic link to {os.readlink(p)}, not a file of this run")
            elif p.suffix == ".npz" and p.is_file():
                files.append(p)
            elif p.suffix not in (".corrupt", ".foreign"):
                self.strays.append(p)
        return files

    def _set_aside(self, p: Path, suffix: str, why: str) -> None:
        target = p.with_suffix(suffix)
        p.rename(target)
        self.set_aside.append((p, why))

    def _verified(self, p: Path, exp, pt) -> BlockMoments | None:
        """The partial's blocks if it is intact and belongs to this point, else None (and it is set aside)."""
        try:
            blocks, found = _read_partial(p)
        except Exception as e:
            self._set_aside(p, ".corrupt", f"unreadable ({type(e).__name__})")
            return None
        if found is None and not self._legacy:
            why = "no binding (written by an older version into a newer run)"
        else:
            why = _mismatch(found, blocks, exp, pt)
        if why is not None:
            self._set_aside(p, ".foreign", why)
            return None
        self.versions.add((found or {}).get("version"))
        return blocks.select(blocks.first_block, blocks.first_block + usable_blocks(blocks.first_block, blocks.counts, pt))

    def done_blocks(self, exp) -> dict[int, set[int]]:
        """Blocks of every point of ``exp`` held by valid partials; others are set aside."""
        return {pt.key: {b for p in self._point_files(pt) if (c := self._verified(p, exp, pt)) is not None
                         for b in range(c.first_block, c.stop_block)} for pt in exp.points}  # fmt: skip

    def chunks(self, exp, pt) -> Iterator[BlockMoments]:
        """The point's blocks in block order, each block once, from partials verified against ``exp``.

        Ranges come from the files' contents. The headers are read first to
        plan the coverage; then one file at a time is read in full (checksum
        and binding), so memory holds one partial, not the whole point.
        """
        headers = []
        for p in self._point_files(pt):
            try:
                first, counts, _ = read_header(p)
            except Exception:
                continue  # the full read below would fail too: left to --resume to set aside
            if (k := usable_blocks(first, counts, pt)) > 0:
                headers.append((first, first + k, p))
        try:
            pieces = _cover(headers, pt.n_blocks, pt.key)
        except RunDirectoryError as e:  # say why blocks are missing when this read set partials aside
            here = [f"{q.name}: {why}" for q, why in self.set_aside if q.parent.name == f"{pt.key:016x}"]
            raise RunDirectoryError(f"{e}" if not here else f"{str(e).split(';')[0]} ({'; '.join(here[:2])}); run again "
                                    "with --resume") from None  # fmt: skip
        for start, stop, p in pieces:
            blocks = self._verified(p, exp, pt)
            if blocks is None:
                raise RunDirectoryError(f"{p} does not belong to this run ({self.set_aside[-1][1]}); run again with --resume")
            yield blocks.select(start, stop)

    # -- tables ------------------------------------------------------------------
    def put_table(self, name: str, df: pd.DataFrame) -> None:
        _makedirs(self.tables_dir)
        _atomic_write(self.tables_dir / f"{name}.parquet", lambda f: df.to_parquet(f, index=False))

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.tables_dir / f"{name}.parquet")

    def drop_table(self, name: str) -> None:
        (self.tables_dir / f"{name}.parquet").unlink(missing_ok=True)

    def put_record(self, name: str, doc: dict) -> None:
        _makedirs(self.tables_dir)
        _atomic_write(self.tables_dir / f"{name}.json", lambda f: f.write(json.dumps(doc, indent=1).encode()))

    def record(self, name: str) -> dict | None:
        p = self.tables_dir / f"{name}.json"
        try:
            return json.loads(p.read_text())
        except (OSError, ValueError):
            return None


# -- the lock ---------------------------------------------------------------------------------------


class RunLock:
    """An exclusive lock on a run directory (flock on ``DIR/.lock``), naming its holder.

    The operating system releases it when the holding process exits, however it
    exits (SIGKILL included), so a lock left by a killed driver never blocks a
    later ``--resume``. flock works on local file systems and on NFS (v4, and v3
    through the kernel's emulation with lockd).
    """

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / ".lock"
        self._fd: int | None = None
        #: The record a holder left without releasing the lock (it was killed), found on acquiring; else None.
        self.previous: str | None = None

    def acquire(self) -> RunLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as e:
            raise RunDirectoryError(f"cannot lock {self.path.parent} ({e.strerror}); choose a writable run directory") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.read(fd, 4096).decode(errors="replace")
            os.close(fd)
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunDirectoryError(f"cannot lock {self.path.parent}: {e.strerror}") from None
            raise RunDirectoryError(f"{self.path.parent} is in use by {_holder(holder)}; wait until it ends or stop it") from None
        left = os.pread(fd, 4096, 0).decode(errors="replace").strip()
        self.previous = _holder(left) if left else None  # a released lock is emptied: a record means its holder died
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": _now(), "command": _command()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)  # no record left behind: the next holder knows this one ended cleanly
            except OSError:
                pass
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()

    def __del__(self):
        self.release()


def _command() -> str:
    """This process's command line, as the user typed it (``python -m ensemble`` shows as ``ensemble``)."""
    argv = list(sys.argv)
    if argv and (argv[0].endswith(("ensemble/__main__.py", "/ensemble")) or argv[0] == "ensemble"):
        argv[0] = "ensemble"
    return " ".join(argv)


def _holder(text: str) -> str:
    try:
        h = json.loads(text)
        return f"process {h['pid']} on {h['host']} since {h['since']} ({h['command']})"
    except (ValueError, KeyError, TypeError):
        return "another process"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# -- opening a run directory ---------------------------------------------------------------------------


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
    if path.exists() and any(p.name != ".lock" for p in path.iterdir()):
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
        if was["fingerprint"] != fingerprint(exp.kernel.name, pt.params):
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
    """``exp`` with the block size the run in ``path`` recorded for each of its points (when the spec sets none).

    Default block sizes depend on the realizations (ceil(N / 100)); a run that
    grows keeps its own, so every finished block stays valid.
    """
    from .spec import with_block_sizes

    recorded = block_sizes(read_record(path))
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
    _makedirs(path)
    lock = RunLock(path).acquire()
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
            _makedirs(path / "history")
            shutil.copy2(path / "spec.toml", path / "history" / f"spec-{_now().replace(':', '')}.toml")
            _write_manifest(path, exp, created=old.get("created"), history=history)
        elif state != "resume":
            _write_manifest(path, exp)
    except BaseException:
        lock.release()
        raise
    return DirectoryStore(path, lock)


def _write_manifest(path: Path, exp, created: str | None = None, history: list | None = None) -> None:
    _atomic_write(Layout(path).spec, lambda f: f.write(exp.source.encode()))
    doc = {
        "format": FORMAT,
        "results_hash": exp.results_hash(),
        "spec": exp.to_dict(),
        "source": exp.source,
        "points": [
            {"index": p.index, "key": f"{p.key:016x}", "swept": p.swept, "params": _jsonable(p.params),
             "realizations": p.realizations, "block_size": p.block_size,
             "fingerprint": fingerprint(exp.kernel.name, p.params)}
            for p in exp.points
        ],
        "environment": environment(),
        "created": created or _now(),
        "command": sys.argv,
        **({"history": history} if history else {}),
    }
    write_record(path, doc)


def versions() -> dict:
    """Versions of Python, this package and the libraries the results depend on."""
    out = {"python": platform.python_version()}
    for dist in (DIST_NAME, "numpy", "scipy", "numba", "dask", "distributed", "pandas", "pyarrow"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def environment() -> dict:
    """Versions, host and the git revision of the source the package came from."""
    return {"versions": versions(), "git": _git_revision(), "host": socket.gethostname(), "platform": platform.platform()}


def _git_revision() -> dict | None:
    """Revision of the checkout the package is imported or was installed from."""
    candidates = [Path(__file__).resolve().parent.parent]
    try:
        info = json.loads(metadata.distribution(DIST_NAME).read_text("direct_url.json") or "{}")
        if info.get("url", "").startswith("file://"):
            candidates.append(Path(info["url"][7:]))
    except metadata.PackageNotFoundError:
        pass
    for d in candidates:
        try:
            rev = subprocess.run(["git", "-C", str(d), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
            if rev.returncode == 0:
                dirty = subprocess.run(
                    ["git", "-C", str(d), "status", "--porcelain", "--untracked-files=no"],
                    capture_output=True,
                    text=True,
                    timeout=5,
                )
                return {"revision": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip()), "source": str(d)}
        except (OSError, subprocess.TimeoutExpired):
            continue
    return None


def _jsonable(params) -> dict:
    d = canonical_params(params)
    d.pop("times", None)
    return d


# -- partial files ------------------------------------------------------------------


def _pack(b: BlockMoments, bound: dict) -> dict[str, np.ndarray]:
    arrays = {"first_block": np.array(b.first_block, dtype=np.int64), "counts": b.counts.astype(np.int64)}
    arrays["binding"] = np.array(json.dumps(bound, sort_keys=True))
    arrays["names"] = np.array(b.names)
    for k in b.names:
        arrays[f"mean__{k}"] = np.ascontiguousarray(b.mean[k], dtype=np.float64)
        arrays[f"m2__{k}"] = np.ascontiguousarray(b.m2[k], dtype=np.float64)
    arrays["checksum"] = np.array(_checksum(arrays))
    return arrays


def read_header(path: Path) -> tuple[int, np.ndarray, dict | None]:
    """First block, realizations per block and binding of a partial, from its header arrays only (not verified:
    the full read verifies the checksum)."""
    with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
        found = json.loads(str(z["binding"])) if "binding" in z.files else None
        return int(z["first_block"]), z["counts"], found


def usable_range(path: Path, exp, pt) -> tuple[int, int] | None:
    """The blocks of point ``pt`` a partial's header says it holds, (first, stop), or None if it holds none
    (another run's, another layout, unreadable). What ``ensemble status`` counts, without reading the moments."""
    try:
        first, counts, found = read_header(path)
    except Exception:
        return None
    if mismatch(found, first, counts, exp, pt) is not None:
        return None
    return first, first + usable_blocks(first, counts, pt)


def _read_partial(path: Path) -> tuple[BlockMoments, dict | None]:
    """Load and verify one partial file; its binding (None for a format-1 file)."""
    with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
        return _unpack({k: z[k] for k in z.files})


def _unpack(arrays: dict[str, np.ndarray]) -> tuple[BlockMoments, dict | None]:
    if str(arrays.pop("checksum")) != _checksum(arrays):
        raise CorruptPartial("checksum mismatch")
    names = [str(n) for n in arrays["names"]]
    found = json.loads(str(arrays["binding"])) if "binding" in arrays else None
    blocks = BlockMoments(
        first_block=int(arrays["first_block"]),
        counts=arrays["counts"],
        mean={k: arrays[f"mean__{k}"] for k in names},
        m2={k: arrays[f"m2__{k}"] for k in names},
    )
    return blocks, found


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()
