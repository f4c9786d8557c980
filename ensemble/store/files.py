"""Writing files safely: atomically (temporary file, fsync, rename), with the umask's permissions, and storage
errors (a full disk, a read-only file system) reported as one line that keeps finished work."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from ensemble.errors import RunDirectoryError

__all__ = ["FILE_MODE", "StorageError", "atomic_write", "makedirs", "storage_error"]


class StorageError(RunDirectoryError):
    """Writing to the run directory failed mid-run (e.g. a full disk); finished blocks are kept."""


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Files get 0666 & ~umask, as open() would give them (mkstemp alone gives 0600).
FILE_MODE = 0o666 & ~_current_umask()


def makedirs(path: Path) -> None:
    """``mkdir -p``, a failure reported as a StorageError."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise storage_error(e, path) from None


def storage_error(e: OSError, where: Path) -> RunDirectoryError:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(f"no space left on the device of {where} ({e.strerror}); finished blocks are kept: "
                            "free space, then run again with --resume")  # fmt: skip
    return StorageError(f"cannot write {where} ({e.strerror}); finished blocks are kept: fix it, then run again with --resume")


def atomic_write(target: Path, write) -> None:
    """Write through a temporary file in the same directory (mode as the umask allows), fsync, then rename."""
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:
        raise storage_error(e, target.parent) from None
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise storage_error(e, target) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
