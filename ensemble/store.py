"""Where partials and tables live: one interface, an in-memory and a directory backend.

Run directory layout::

    DIR/run.json                   spec (normalized), points, versions, git revision
    DIR/spec.toml                  the spec as given
    DIR/partials/<key>/<task>.npz  per-task block moments, written atomically, with a checksum
    DIR/tables/summary.parquet     one row per point x observable x coordinates
    DIR/tables/fits.parquet        one row per point and fit
    DIR/tables/fit_windows.parquet every candidate fit window, for window-sensitivity checks

Partial files have deterministic names (point key and block range), so a
re-run task overwrites its own file and ``--resume`` skips what is done. A
partial whose checksum does not match is set aside as ``*.corrupt`` and its
blocks are recomputed; it is never merged.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import RunDirectoryError
from .reduce import BlockMoments

__all__ = ["DirectoryStore", "MemoryStore", "check_run_dir", "environment", "open_run_dir"]

FORMAT = 1
DIST_NAME = "mbl-ensemble"
_BLOCK_RANGE = re.compile(r"-b(\d+)-(\d+)$")


class CorruptPartial(RuntimeError):
    pass


class MemoryStore:
    """Partials and tables held in memory (tests, notebooks)."""

    def __init__(self):
        self._partials: dict[int, dict[int, BlockMoments]] = {}
        self._tables: dict[str, pd.DataFrame] = {}

    def done_blocks(self) -> dict[int, set[int]]:
        return {k: _covered(v.values()) for k, v in self._partials.items()}

    def put(self, task, blocks: BlockMoments) -> None:
        self._partials.setdefault(task.key, {})[blocks.first_block] = blocks

    def chunks(self, key: int, n_blocks: int) -> Iterator[BlockMoments]:
        parts = self._partials.get(key, {})
        return iter(_check_coverage([parts[b] for b in sorted(parts)], n_blocks, key))

    def put_table(self, name: str, df: pd.DataFrame) -> None:
        self._tables[name] = df.copy()

    def table(self, name: str) -> pd.DataFrame:
        return self._tables[name].copy()

    def drop_table(self, name: str) -> None:
        self._tables.pop(name, None)


class DirectoryStore:
    """Partials as checksummed ``.npz`` files and tables as Parquet under a run directory."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.partials_dir = self.path / "partials"
        self.tables_dir = self.path / "tables"
        self.set_aside: list[Path] = []

    # -- partials --------------------------------------------------------------
    def _file(self, key: int, name: str) -> Path:
        return self.partials_dir / f"{key:016x}" / f"{name}.npz"

    def put(self, task, blocks: BlockMoments) -> None:
        arrays = _pack(blocks)
        target = self._file(task.key, task.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(target, lambda f: np.savez(f, **arrays))

    def done_blocks(self) -> dict[int, set[int]]:
        """Blocks held by valid partial files; corrupt files are renamed ``*.corrupt``."""
        done: dict[int, set[int]] = {}
        if not self.partials_dir.exists():
            return done
        for d in sorted(self.partials_dir.iterdir()):
            for tmp in d.glob(".*.tmp"):
                tmp.unlink()
            parts = []
            for p in sorted(d.glob("*.npz")):
                try:
                    parts.append(_read_partial(p))
                except Exception:
                    p.rename(p.with_suffix(".corrupt"))
                    self.set_aside.append(p)
            done[int(d.name, 16)] = _covered(parts)
        return done

    def chunks(self, key: int, n_blocks: int) -> Iterator[BlockMoments]:
        """The point's partials in block order, checked to cover blocks 0..n_blocks-1 once.

        Files are listed first and read one at a time, so memory holds one
        partial, not the whole point.
        """
        d = self.partials_dir / f"{key:016x}"
        files = sorted(d.glob("*.npz")) if d.exists() else []
        ranges = sorted((tuple(map(int, _BLOCK_RANGE.search(p.stem).groups())), p) for p in files)
        _check_ranges([r for r, _ in ranges], n_blocks, key)
        for _, p in ranges:
            yield _read_partial(p)

    # -- tables ------------------------------------------------------------------
    def put_table(self, name: str, df: pd.DataFrame) -> None:
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.tables_dir / f"{name}.parquet", lambda f: df.to_parquet(f, index=False))

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.tables_dir / f"{name}.parquet")

    def drop_table(self, name: str) -> None:
        (self.tables_dir / f"{name}.parquet").unlink(missing_ok=True)


def check_run_dir(path: str | Path, exp, resume: bool) -> bool:
    """Check that ``path`` can take a run of ``exp``; True if it already holds that run.

    Raises RunDirectoryError, touching nothing, if the directory holds another
    spec's run, or a run and ``resume`` is False, or other files.
    """
    path = Path(path)
    manifest = path / "run.json"
    if manifest.exists():
        if not resume:
            raise RunDirectoryError(f"{path} already holds a run; add --resume to finish it, or choose another --out")
        old = json.loads(manifest.read_text())
        if old.get("results_hash") != exp.results_hash():
            raise RunDirectoryError(
                f"{path} holds a run of a different spec (kernel, seed, realizations, block size or parameter "
                f"points differ); resume it with its own spec ({path / 'spec.toml'}) or choose another --out"
            )
        return True
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise RunDirectoryError(f"{path} exists and is not a run directory; choose a new or empty --out")
    return False


def open_run_dir(path: str | Path, exp, resume: bool) -> DirectoryStore:
    """Create a run directory for ``exp``, or reopen it with ``resume`` (see :func:`check_run_dir`)."""
    path = Path(path)
    if check_run_dir(path, exp, resume):
        return DirectoryStore(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "spec.toml").write_text(exp.source)
    doc = {
        "format": FORMAT,
        "results_hash": exp.results_hash(),
        "spec": exp.to_dict(),
        "points": [
            {"index": p.index, "key": f"{p.key:016x}", "swept": p.swept, "params": _jsonable(p.params)}
            for p in exp.points
        ],
        "environment": environment(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv,
    }
    _atomic_write(path / "run.json", lambda f: f.write(json.dumps(doc, indent=1).encode()))
    return DirectoryStore(path)


def environment() -> dict:
    """Versions, host and the git revision of the source the package came from."""
    versions = {"python": platform.python_version()}
    for dist in (DIST_NAME, "numpy", "scipy", "numba", "dask", "distributed", "pandas", "pyarrow"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {"versions": versions, "git": _git_revision(), "host": socket.gethostname(), "platform": platform.platform()}


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
    from .seeding import canonical_params

    d = canonical_params(params)
    d.pop("times", None)
    return d


# -- partial files ------------------------------------------------------------------


def _pack(b: BlockMoments) -> dict[str, np.ndarray]:
    arrays = {"first_block": np.array(b.first_block, dtype=np.int64), "counts": b.counts.astype(np.int64)}
    arrays["names"] = np.array(b.names)
    for k in b.names:
        arrays[f"mean__{k}"] = np.ascontiguousarray(b.mean[k], dtype=np.float64)
        arrays[f"m2__{k}"] = np.ascontiguousarray(b.m2[k], dtype=np.float64)
    arrays["checksum"] = np.array(_checksum(arrays))
    return arrays


def _read_partial(path: Path) -> BlockMoments:
    """Load and verify one partial file (the file is closed even when it is corrupt)."""
    with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
        return _unpack({k: z[k] for k in z.files})


def _unpack(arrays: dict[str, np.ndarray]) -> BlockMoments:
    if str(arrays.pop("checksum")) != _checksum(arrays):
        raise CorruptPartial("checksum mismatch")
    names = [str(n) for n in arrays["names"]]
    return BlockMoments(
        first_block=int(arrays["first_block"]),
        counts=arrays["counts"],
        mean={k: arrays[f"mean__{k}"] for k in names},
        m2={k: arrays[f"m2__{k}"] for k in names},
    )


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _atomic_write(target: Path, write) -> None:
    """Write through a temporary file in the same directory, fsync, then rename."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _covered(parts) -> set[int]:
    return {b for p in parts for b in range(p.first_block, p.first_block + p.counts.size)}


def _check_ranges(ranges: list[tuple[int, int]], n_blocks: int, key: int) -> None:
    expect = 0
    for first, stop in ranges:
        if first != expect:
            what = "missing" if first > expect else "overlapping"
            raise RunDirectoryError(f"point {key:016x}: blocks {what} at block {expect}; run again with --resume")
        expect = stop
    if expect != n_blocks:
        raise RunDirectoryError(f"point {key:016x}: {n_blocks - expect} blocks missing; run again with --resume")


def _check_coverage(parts: list[BlockMoments], n_blocks: int, key: int) -> list[BlockMoments]:
    _check_ranges([(p.first_block, p.first_block + p.counts.size) for p in parts], n_blocks, key)
    return parts
