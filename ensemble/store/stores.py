"""Where partials and tables live: one interface (:class:`Store`), an in-memory and a directory backend.

The directory backend keeps partials as checksummed files (:mod:`ensemble.store.partials`) and tables as Parquet
under a run directory (layout: :mod:`ensemble.store.layout`). Every reader takes block ranges from the files'
contents and checks their binding against the run's spec: a partial from another run (another seed, other
parameters or times, another block layout) is set aside as ``*.foreign`` and its blocks are recomputed,
never merged; a damaged one is set aside as ``*.corrupt``; a symbolic link is set aside (its contents could
change behind the run's back). Entries of ``partials/`` that are not partial files are left alone.
Files are written atomically with the umask's permissions; a full disk stops the run with a message and
finished blocks stay (:mod:`ensemble.store.files`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ensemble.errors import RunDirectoryError
from ensemble.store.files import StorageError, atomic_write, makedirs
from ensemble.store.lock import RunLock
from ensemble.store.partials import cover, mismatch, pack, read_header, read_partial, task_binding, usable_blocks
from ensemble.analysis.reduce import BlockMoments
from ensemble.store.layout import Layout, record_format

__all__ = ["DirectoryStore", "MemoryStore", "StorageError", "Store", "TablesInMemory"]


@runtime_checkable
class Store(Protocol):
    """What the runner, the tables and the command line need of a store.

    Attributes
    ----------
    path : Path or None
        The run directory (None in memory).
    set_aside : list of (Path, str)
        Partials set aside by reads so far, with why.
    strays : list of Path
        Entries of partials/ that are not partial files (left alone).
    versions : set
        Package versions that computed the partials read so far (None: not recorded).
    """

    path: Path | None
    set_aside: list
    strays: list
    versions: set

    def put(self, task, blocks: BlockMoments) -> None: ...

    def done_blocks(self, exp) -> dict[int, set[int]]: ...

    def chunks(self, exp, pt) -> Iterator[BlockMoments]: ...

    def put_table(self, name: str, df: pd.DataFrame) -> None: ...

    def table(self, name: str) -> pd.DataFrame: ...

    def drop_table(self, name: str) -> None: ...

    def put_record(self, name: str, doc: dict) -> None: ...

    def record(self, name: str) -> dict | None: ...


class TablesInMemory:
    """The table side of a store, kept in memory and written nowhere: the base of read-only views that take
    their blocks from elsewhere (provisional tables of a running run, the tables a precision check evaluates)."""

    path = None

    def __init__(self):
        self.tables: dict[str, pd.DataFrame] = {}

    def put_table(self, name: str, df: pd.DataFrame) -> None:
        self.tables[name] = df

    def drop_table(self, name: str) -> None:
        self.tables.pop(name, None)

    def put_record(self, name: str, doc: dict) -> None:
        pass


class MemoryStore:
    """Partials and tables held in memory (tests, notebooks)."""

    def __init__(self):
        self._partials: dict[int, dict[int, tuple[BlockMoments, dict]]] = {}
        self._tables: dict[str, pd.DataFrame] = {}
        self._records: dict[str, dict] = {}
        self.set_aside: list = []
        self.strays: list = []
        self.versions: set = set()
        self.path: Path | None = None

    def put(self, task, blocks: BlockMoments) -> None:
        self._partials.setdefault(task.key, {})[blocks.first_block] = (blocks, task_binding(task))

    def _valid(self, exp, pt) -> list[BlockMoments]:
        valid = [(b, found) for b, found in self._partials.get(pt.key, {}).values()
                 if mismatch(found, b.first_block, b.counts, exp, pt) is None]  # fmt: skip
        self.versions.update(found.get("version") for _, found in valid)
        return [b.select(b.first_block, b.first_block + usable_blocks(b.first_block, b.counts, pt)) for b, _ in valid]

    def done_blocks(self, exp) -> dict[int, set[int]]:
        return {pt.key: {b for c in self._valid(exp, pt) for b in range(c.first_block, c.stop_block)} for pt in exp.points}

    def chunks(self, exp, pt) -> Iterator[BlockMoments]:
        valid = self._valid(exp, pt)
        for start, stop, c in cover([(c.first_block, c.stop_block, c) for c in valid], pt.n_blocks, pt.key):
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
        self.layout = Layout(self.path)
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
        return self.layout.partial(key, name)

    def put(self, task, blocks: BlockMoments) -> None:
        arrays = pack(blocks, task_binding(task))
        target = self._file(task.key, task.name)
        makedirs(target.parent)
        atomic_write(target, lambda f: np.savez(f, **arrays))

    def _point_files(self, pt) -> list[Path]:
        d = self.layout.point_dir(pt.key)
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
            blocks, found = read_partial(p)
        except Exception as e:
            self._set_aside(p, ".corrupt", f"unreadable ({type(e).__name__})")
            return None
        if found is None and not self._legacy:
            why = "no binding (written by an older version into a newer run)"
        else:
            why = mismatch(found, blocks.first_block, blocks.counts, exp, pt)
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
            pieces = cover(headers, pt.n_blocks, pt.key)
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
        makedirs(self.layout.tables)
        atomic_write(self.layout.table(name), lambda f: df.to_parquet(f, index=False))

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.layout.table(name))

    def drop_table(self, name: str) -> None:
        self.layout.table(name).unlink(missing_ok=True)

    def put_record(self, name: str, doc: dict) -> None:
        makedirs(self.layout.tables)
        atomic_write(self.layout.table_record(name), lambda f: f.write(json.dumps(doc, indent=1).encode()))

    def record(self, name: str) -> dict | None:
        p = self.layout.table_record(name)
        try:
            return json.loads(p.read_text())
        except (OSError, ValueError):
            return None
