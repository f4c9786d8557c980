"""One writer per run directory: an exclusive lock that names its holder and says when a holder died."""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import json
import os
import socket
import sys
from pathlib import Path

from ensemble.errors import RunDirectoryError
from ensemble.store.files import FILE_MODE
from ensemble.store.layout import Layout

__all__ = ["RunLock", "holder_of"]


class RunLock:
    """An exclusive lock on a run directory (flock on ``DIR/.lock``), naming its holder.

    The operating system releases it when the holding process exits, however it
    exits (SIGKILL included), so a lock left by a killed driver never blocks a
    later ``--resume``. flock works on local file systems and on NFS (v4, and v3
    through the kernel's emulation with lockd).
    """

    def __init__(self, directory: str | Path):
        self.path = Layout(directory).lock
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




def holder_of(directory: str | Path) -> str | None:
    """Who holds the lock of ``directory`` now (probed with a shared, non-blocking flock), or None."""
    path = Layout(directory).lock
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    except OSError as e:
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        return _holder(os.read(fd, 4096).decode(errors="replace"))
    finally:
        os.close(fd)
