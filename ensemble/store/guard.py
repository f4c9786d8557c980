"""Where anything may be written: the one place that decides, for every path a user names.

Only the engine writes inside a run directory (its record, partials, tables, plots, through
:mod:`ensemble.store.files`). Every other write the package makes on a user's behalf (an export to netCDF or
Zarr, a ``--writable`` query, ``plot --out``, ``replay --save``, ``new-kernel --out``, a new run's own
directory, the figures ``reproduce`` collects) asks here first, and is refused with one line when the path

* resolves (symbolic links, ``..``, relative to the working directory) into a run directory: one holding a
  ``run.json``, or below one;
* is an existing file the user did not name with an explicit overwrite;
* is a directory where a file is wanted (or a file where a directory is), or has no existing parent
  directory to be written in.

A directory handed to DuckDB for a ``--writable`` query (:func:`export_directory`) must moreover hold no run
directory below it and no hard-linked file (a write through a hard link changes every name of the file,
one of which may be a run's table); DuckDB's own ``allowed_directories`` then confines the query to it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ensemble.errors import UsageError
from ensemble.store.layout import is_run

__all__ = ["MAX_SCAN", "export_directory", "new_directory", "output_file", "resolved", "run_directory_of",
           "run_parent_of", "run_target"]  # fmt: skip

#: Entries of an export directory looked at before it is handed to DuckDB (a bigger one is refused).
MAX_SCAN = 100_000


def _one_line_os_errors(check):
    """A path the system itself refuses (too long, a loop of links, no permission to look): one line too."""
    import functools

    @functools.wraps(check)
    def checked(path, option, *args, **kwargs):
        try:
            return check(path, option, *args, **kwargs)
        except OSError as e:
            raise UsageError(option, str(path), f"a path the system can use ({e.strerror or e})") from None

    return checked


def resolved(path: str | Path) -> Path:
    """``path`` as the file system will reach it: ``~`` expanded, made absolute against the working directory,
    symbolic links and ``..`` resolved (as far as the path exists)."""
    return Path(os.path.realpath(os.path.abspath(os.path.expanduser(os.fspath(path)))))


def run_directory_of(path: str | Path) -> Path | None:
    """The run directory that ``path`` is or lies in (after :func:`resolved`), or None."""
    here = resolved(path)
    for d in (here, *here.parents):
        if is_run(d):
            return d
    return None


def run_parent_of(path: str | Path) -> Path | None:
    """A run directory strictly above ``path`` (where a new run must not be made), or None."""
    here = resolved(path)
    for d in here.parents:
        if is_run(d):
            return d
    return None


def run_target(path: str | Path, option: str = "--out") -> Path:
    """Check that a run may be made or resumed at ``path``: it may be a run directory itself, never inside one."""
    parent = run_parent_of(path)
    if parent is not None:
        raise UsageError(option, str(path), f"a run directory outside run directories (this one would be inside the "
                         f"run directory {parent}, where only that run's engine writes: choose another path)")  # fmt: skip
    return Path(path)


def _refuse_run(option: str, path, what: str) -> None:
    run = run_directory_of(path)
    if run is not None:
        where = resolved(path)
        inside = "is the run directory" if where == run else f"resolves to {where}, inside the run directory"
        raise UsageError(option, str(path), f"{what} outside run directories (this one {inside} {run}; only the "
                         "engine writes there: choose another path)")  # fmt: skip


@_one_line_os_errors
def output_file(path: str | Path, option: str, overwrite: bool = False, what: str = "a file path") -> Path:
    """Check that a file may be written at ``path`` for the user (``option`` names the option or argument in
    messages); return it as given. UsageError if it is in a run directory, is a directory, has no existing
    parent directory, or exists and ``overwrite`` is not set."""
    path = Path(os.path.expanduser(os.fspath(path)))
    _refuse_run(option, path, what)
    if path.is_dir():
        raise UsageError(option, str(path), f"{what}, not a directory")
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise UsageError(option, str(path), f"a new file ({path} exists; overwrite it explicitly"
                             " (--overwrite, or overwrite=True) to replace it)")  # fmt: skip
        if not path.is_file():
            raise UsageError(option, str(path), f"{what}: {path} exists and is not a regular file")
    parent = resolved(path).parent
    if not parent.is_dir():
        raise UsageError(option, str(path), f"{what} in an existing directory ({parent} does not exist)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(option, str(path), f"{what} in a directory you can write ({parent} is not writable)")
    return path


@_one_line_os_errors
def new_directory(path: str | Path, option: str, names=(), overwrite: bool = False, empty: bool = False) -> Path:
    """Check that a directory may be made or written at ``path``: files ``names`` go into it (each refused if it
    exists, unless ``overwrite``); ``empty``: it must be new or empty. Returns ``path``."""
    path = Path(os.path.expanduser(os.fspath(path)))
    _refuse_run(option, path, "a directory")
    if path.exists() and not path.is_dir():
        raise UsageError(option, str(path), f"a directory ({path} exists and is not one)")
    if path.is_dir():
        if empty and any(path.iterdir()):
            raise UsageError(option, str(path), "a new or empty directory (nothing in it is overwritten)")
        taken = [n for n in names if (path / n).exists()]
        if taken and not overwrite:
            raise UsageError(option, str(path), f"a directory without {', '.join(taken[:3])}"
                             f"{' ...' if len(taken) > 3 else ''} (overwrite explicitly: --overwrite)")  # fmt: skip
        if not os.access(path, os.W_OK | os.X_OK):
            raise UsageError(option, str(path), "a directory you can write")
        return path
    base = resolved(path)
    while not base.exists():
        base = base.parent
    if not base.is_dir() or not os.access(base, os.W_OK | os.X_OK):
        raise UsageError(option, str(path), f"a directory that can be made ({base} is not a writable directory)")
    return path


@_one_line_os_errors
def export_directory(path: str | Path, option: str = "--writable") -> Path:
    """The directory a writable query may read and write, resolved (what DuckDB's ``allowed_directories`` gets).

    It must exist, lie outside every run directory, and hold no run directory and no hard-linked file below it
    (at most :data:`MAX_SCAN` entries are looked at; a bigger directory is refused)."""
    path = Path(os.path.expanduser(os.fspath(path)))
    _refuse_run(option, path, "a directory for the query's files")
    if not path.is_dir():
        raise UsageError(option, str(path), "an existing directory for the query's files")
    root = resolved(path)
    seen = 0
    for here, dirs, files in os.walk(root):
        seen += len(dirs) + len(files)
        if seen > MAX_SCAN:
            raise UsageError(option, str(path), f"a directory of at most {MAX_SCAN} entries (it is checked for run "
                             "directories and hard links before a query may write in it): name a smaller one")  # fmt: skip
        if is_run(here):
            raise UsageError(option, str(path), f"a directory holding no run directory (it holds {here}: a query "
                             "never writes into a run; export into a directory of its own)")  # fmt: skip
        for name in files:
            try:
                st = os.lstat(os.path.join(here, name))
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                raise UsageError(option, str(path), f"a directory without hard-linked files ({os.path.join(here, name)} "
                                 "has other names, which a query writing it would change too)")  # fmt: skip
    return root
