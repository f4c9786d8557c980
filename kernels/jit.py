"""The one Numba decorator of the project: every compiled loop of a kernel (and of the engine) is ``@jit``.

``nogil``: realizations may run in threads beside each other; ``cache``: compiled once, loaded from disk by every
worker after (the machine code lives beside the source, in ``__pycache__``; ``kernels._cache`` drops it when any
kernel source changes). No ``parallel``/``prange``: Dask (or a pool) owns the parallelism, one realization per
thread.
"""

from __future__ import annotations

from numba import njit

__all__ = ["jit"]

jit = njit(nogil=True, cache=True)
