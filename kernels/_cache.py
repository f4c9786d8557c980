"""Keep Numba's on-disk cache consistent with the kernel sources.

Numba invalidates a cached function only when *its own* source file changes.
A jitted function that calls one in another file (the XXZ trajectory calls
the Chebyshev propagator) keeps its cached machine code after the callee is
edited, and runs the old callee: a crash at best, wrong numbers at worst.
:func:`ensure_fresh` hashes every kernel source; when the hash differs from
the one stored beside the cache, it deletes the kernels' cache files, so
they are recompiled. Installed packages are not affected (an upgrade
rewrites every file), but a checkout being edited is.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["cache_dirs", "ensure_fresh", "sources_hash"]

PACKAGE = Path(__file__).resolve().parent
STAMP = ".kernels-sources.sha256"


def sources_hash() -> str:
    """sha256 over every source file of the package and its family subpackages (path and contents)."""
    h = hashlib.sha256()
    for p in sorted(PACKAGE.rglob("*.py")):
        h.update(p.relative_to(PACKAGE).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def cache_dirs() -> list[Path]:
    """Where Numba keeps this package's cache: every __pycache__ of it, or those under NUMBA_CACHE_DIR."""
    dirs = [d for d in PACKAGE.rglob("__pycache__")]
    root = os.environ.get("NUMBA_CACHE_DIR")
    if root:
        dirs += [d for d in Path(root).rglob("*") if d.is_dir() and (d.name == "__pycache__" or "kernels" in d.parts)]
    return [d for d in dirs if d.is_dir()]


def ensure_fresh() -> int:
    """Delete the kernels' cached machine code if any kernel source changed; return files deleted."""
    digest = sources_hash()
    removed = 0
    for d in cache_dirs():
        stamp = d / STAMP
        if stamp.exists() and stamp.read_text() == digest:
            continue
        for f in list(d.glob("*.nbi")) + list(d.glob("*.nbc")):
            f.unlink(missing_ok=True)
            removed += 1
        try:
            stamp.write_text(digest)
        except OSError:
            pass
    return removed
