"""The run directory: its layout and its record (``run.json``), known here and nowhere else.

Layout::

    DIR/run.json                   the record: the spec (its text and its normalized form), points with their
                                   keys, block sizes and fingerprints, versions, git revision, growth history,
                                   and a checksum over all of it
    DIR/spec.toml                  the spec as given (a copy for people; the record holds the text the run uses)
    DIR/.lock                      held (flock) by the one process writing the directory; names its holder
    DIR/partials/<key>/<task>.npz  per-task block moments, written atomically, with a checksum
    DIR/tables/*.parquet           summary, fits, and the model's own tables
    DIR/tables/manifest.json       what the tables were computed with (fit settings, partials, time)
    DIR/plots/*.png                figures drawn from the tables
    DIR/history/spec-<time>.toml   the spec before each growth
    DIR/progress.json              the driver's progress, every few seconds

The record is checked on every read: a run.json changed by hand (its checksum no longer matches)
is refused with one line, because readers take each point's block layout from it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ensemble.errors import RunDirectoryError
from ensemble.store.files import atomic_write

__all__ = [
    "ENTRIES",
    "Layout",
    "block_sizes",
    "is_run",
    "read_record",
    "record_format",
    "recorded_fingerprints",
    "recorded_spec",
    "write_record",
]

RECORD, SPEC, LOCK, PARTIALS, TABLES, PLOTS, HISTORY, PROGRESS = (
    "run.json", "spec.toml", ".lock", "partials", "tables", "plots", "history", "progress.json",
)  # fmt: skip
#: Every entry the engine writes in a run directory.
ENTRIES = (RECORD, SPEC, LOCK, PARTIALS, TABLES, PLOTS, HISTORY, PROGRESS)
#: Run-directory format: 1 = partials named by range only (still read); 2 = partials bound to their run.
FORMAT = 2


@dataclass(frozen=True)
class Layout:
    """Where each part of the run directory ``path`` lives."""

    path: Path

    def __init__(self, path: str | Path):
        object.__setattr__(self, "path", Path(path))

    record = property(lambda self: self.path / RECORD)
    spec = property(lambda self: self.path / SPEC)
    lock = property(lambda self: self.path / LOCK)
    partials = property(lambda self: self.path / PARTIALS)
    tables = property(lambda self: self.path / TABLES)
    plots = property(lambda self: self.path / PLOTS)
    history = property(lambda self: self.path / HISTORY)
    progress = property(lambda self: self.path / PROGRESS)

    def point_dir(self, key: int) -> Path:
        return self.partials / f"{key:016x}"

    def partial(self, key: int, name: str) -> Path:
        return self.point_dir(key) / f"{name}.npz"

    def table(self, name: str) -> Path:
        return self.tables / f"{name}.parquet"

    def table_record(self, name: str) -> Path:
        return self.tables / f"{name}.json"

    def table_files(self) -> list[Path]:
        return sorted(self.tables.glob("*.parquet")) if self.tables.is_dir() else []

    def has_partials(self) -> bool:
        return self.partials.is_dir() and any(self.partials.rglob("*.npz"))

    def partial_files(self) -> list[Path]:
        """Every partial file of every point (sorted)."""
        return sorted(self.partials.glob("*/*.npz")) if self.partials.is_dir() else []


def is_run(path: str | Path) -> bool:
    """Whether ``path`` holds a run's record (it may still be damaged: :func:`read_record` says)."""
    return Layout(path).record.is_file()


def _checksum(doc: dict) -> str:
    body = {k: v for k, v in doc.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def read_record(path: str | Path) -> dict:
    """The run's record, verified; RunDirectoryError naming the problem if ``path`` is not a run or its record
    is unreadable or was changed by hand. (Records of versions before the checksum are read as they are.)"""
    record = Layout(path).record
    if not record.is_file():
        raise RunDirectoryError(f"{path} is not a run directory (no {RECORD})")
    try:
        doc = json.loads(record.read_text())
    except (OSError, ValueError) as e:
        raise RunDirectoryError(f"{record} is not readable JSON ({' '.join(str(e).split())}); the run directory is damaged") from None
    if not isinstance(doc, dict):
        raise RunDirectoryError(f"{record} does not hold a run's record (a JSON object); the run directory is damaged")
    if "checksum" in doc and doc["checksum"] != _checksum(doc):
        raise RunDirectoryError(
            f"{record} was changed after the run wrote it (its checksum does not match): readers take every point's "
            f"block layout from it, so it cannot be trusted; restore it, or start a new run directory from {SPEC}"
        )
    return doc


def write_record(path: str | Path, doc: dict) -> None:
    """Write the record atomically, with its checksum."""
    doc = {**{k: v for k, v in doc.items() if k != "checksum"}, "format": doc.get("format", FORMAT)}
    doc["checksum"] = _checksum(doc)
    atomic_write(Layout(path).record, lambda f: f.write(json.dumps(doc, indent=1).encode()))


def record_format(path: str | Path) -> int:
    """The run directory's format (:data:`FORMAT` for a directory without a record yet)."""
    try:
        return int(read_record(path).get("format", 1))
    except (RunDirectoryError, TypeError, ValueError):
        return FORMAT


def recorded_spec(path: str | Path, doc: dict) -> str:
    """The spec text the run was made with: the record's own (runs of this version), else spec.toml."""
    if isinstance(doc.get("source"), str):
        return doc["source"]
    spec = Layout(path).spec
    try:
        return spec.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RunDirectoryError(f"{spec} cannot be read ({e}); the run directory is damaged") from None


def recorded_fingerprints(doc: dict) -> dict[int, str]:
    """Point key -> the fingerprint the run recorded (what its partials are bound to)."""
    return {int(p["key"], 16): p["fingerprint"] for p in doc.get("points", []) if "fingerprint" in p}


def block_sizes(doc: dict) -> dict[int, int]:
    """Point key -> the block size the run recorded (the layout its partials have)."""
    return {int(p["key"], 16): int(p["block_size"]) for p in doc.get("points", []) if "block_size" in p}
