"""Analysis families, one package each; this module holds the only list of them.

A kernel names its family in ``ANALYSIS`` (see :mod:`kernels._interface`);
:func:`model_named` returns the model, :func:`resolve_kernel` resolves a
spec's ``kernel`` into the kernel module and its model, once.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from functools import lru_cache

import kernels
from kernels._interface import KernelInterfaceError, KernelModule, load

from ..errors import SpecError, did_you_mean
from . import bubble, front, impurity, ipr, quench
from .base import MEANS, Model

__all__ = ["MODELS", "USER_PREFIX", "Model", "builtin_kernels", "model_named", "resolve_kernel"]

#: Every analysis family, by the name kernels give in ANALYSIS.
MODELS: dict[str, Model] = {m.name: m for m in (MEANS, front.MODEL, ipr.MODEL, bubble.MODEL, quench.MODEL, impurity.MODEL)}

#: A spec's ``kernel = "module:package.module"`` runs a user's own kernel module.
USER_PREFIX = "module:"


def model_named(name: str) -> Model:
    return MODELS[name]


@lru_cache(maxsize=1)
def builtin_kernels() -> tuple[str, ...]:
    """Names of the built-in kernels: the public modules of the kernels package that define NAME.

    The others (chebyshev, spin_basis, spectral, ...) are numerics the kernels share.
    """
    names = []
    for info in pkgutil.iter_modules(kernels.__path__):
        if not info.name.startswith("_") and hasattr(importlib.import_module(f"kernels.{info.name}"), "NAME"):
            names.append(info.name)
    return tuple(sorted(names))


def resolve_kernel(ref: object) -> tuple[KernelModule, Model]:
    """The kernel module and model of a spec's ``kernel`` value; SpecError naming the problem otherwise.

    A built-in kernel ``name`` is the module ``kernels.<name>``; ``"module:package.module"`` is a
    user's own module following the same protocol.
    """
    names = builtin_kernels()
    if isinstance(ref, str) and ref in names:
        kernel = load(f"kernels.{ref}")
    elif isinstance(ref, str) and ref.startswith(USER_PREFIX):
        kernel = _user_kernel(ref)
    else:
        raise SpecError("kernel", ref, f"{did_you_mean(ref, names)}one of {', '.join(names)}, or \"module:your.kernel.module\"")
    if kernel.analysis not in MODELS:
        raise SpecError("kernel", ref, f"a kernel whose ANALYSIS is one of {', '.join(MODELS)} (got {kernel.analysis!r})")
    return kernel, MODELS[kernel.analysis]


def _user_kernel(ref: str) -> KernelModule:
    path = ref[len(USER_PREFIX) :]
    if not path or not all(part.isidentifier() for part in path.split(".")):
        raise SpecError("kernel", ref, 'a dotted module path after "module:", e.g. kernel = "module:mypackage.mykernel"')
    try:
        kernel = load(path)
    except KernelInterfaceError as e:
        raise SpecError("kernel", ref, f"a module following the kernel protocol ({e})") from None
    except Exception as e:  # any failure at import: missing module, syntax error, an exception of its own
        raise SpecError("kernel", ref, f"an importable module (importing it raised {type(e).__name__}: {_one_line(e)})") from None
    return dataclasses.replace(kernel, name=ref)


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= 200 else text[:197] + "..."
