"""Where a run came from: the versions of this package and of what its results depend on, the host, and the git
revision of the source the package was imported or installed from."""

from __future__ import annotations

import json
import platform
import socket
import subprocess
from importlib import metadata
from pathlib import Path

__all__ = ["DIST_NAME", "environment", "package_version", "versions"]

DIST_NAME = "mbl-ensemble"


def package_version() -> str | None:
    """This package's version (recorded in every partial: a table says which versions its blocks came from);
    the same as ``ensemble.__version__`` and ``ensemble --version``."""
    from ensemble._version import __version__

    return __version__


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
    candidates = [Path(__file__).resolve().parents[2]]
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
