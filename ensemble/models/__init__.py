"""Analysis models, and the resolution of a spec's ``kernel`` into a kernel and its model.

Models and kernels are found through the entry-point groups ``mbl_ensemble.models`` and
``mbl_ensemble.kernels`` (:mod:`ensemble.plugins`; the built-in ones are registered in this project's
``pyproject.toml`` like any plugin). A kernel names its model in ``ANALYSIS``: a registered name, or
``"module:package.module"`` (a module defining ``MODEL``). A spec names its kernel by its registered name
or as ``"module:package.module"``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Iterator, Mapping

from kernels._interface import KernelInterfaceError, KernelModule, current_path, load

from ensemble.errors import SpecError, did_you_mean
from ensemble.plugins import GROUPS, Plugin, registered
from ensemble.models.base import Model

__all__ = ["MODELS", "USER_PREFIX", "Model", "builtin_kernels", "kernel_conflicts", "kernel_identity", "kernel_names",
           "kernel_plugin", "model_named", "resolve_kernel", "same_kernel"]  # fmt: skip

#: A spec's ``kernel = "module:package.module"`` (and a kernel's ``ANALYSIS = "module:..."``) names a module directly.
USER_PREFIX = "module:"


class _Models(Mapping):
    """Every registered model by name, loaded on first use."""

    def __getitem__(self, name: str) -> Model:
        plugin = registered(GROUPS["models"]).get(name)
        if plugin is None:
            raise KeyError(name)
        return _model_module(plugin.value, f"model {name!r} of {plugin.source}")

    def __iter__(self) -> Iterator[str]:
        return iter(registered(GROUPS["models"]))

    def __len__(self) -> int:
        return len(registered(GROUPS["models"]))


#: Every registered analysis model, by the name kernels give in ANALYSIS.
MODELS: Mapping[str, Model] = _Models()


def _model_module(path: str, what: str) -> Model:
    try:
        module = importlib.import_module(path)
    except SystemExit as e:
        raise KernelInterfaceError(f"{what}: importing {path} called sys.exit({e.code!r})") from None
    model = getattr(module, "MODEL", None)
    if not isinstance(model, Model):
        raise KernelInterfaceError(f"{what}: module {path} must define MODEL, an ensemble.models.Model")
    return model


def model_named(name: str) -> Model:
    """A registered model, or the MODEL of ``"module:package.module"``; SpecError naming the choices otherwise."""
    if name in MODELS:
        return MODELS[name]
    if name.startswith(USER_PREFIX):
        path = name[len(USER_PREFIX) :]
        try:
            return _model_module(path, f"ANALYSIS = {name!r}")
        except KernelInterfaceError as e:
            raise SpecError("kernel", name, f"a kernel whose ANALYSIS names a model ({e})") from None
        except Exception as e:  # importing it failed
            raise SpecError("kernel", name, f"an importable analysis module (importing {path} raised "
                                            f"{type(e).__name__}: {_one_line(e)})") from None  # fmt: skip
    raise SpecError("kernel", name, f"a kernel whose ANALYSIS is a registered model ({', '.join(MODELS)}) or "
                                    '"module:package.module"')  # fmt: skip


def kernel_names() -> tuple[str, ...]:
    """Every registered kernel's name (built-in and plugins), sorted."""
    return tuple(sorted(registered(GROUPS["kernels"])))


def builtin_kernels() -> tuple[str, ...]:
    """The kernels this package registers itself."""
    return tuple(sorted(n for n, p in registered(GROUPS["kernels"]).items() if p.builtin))


def kernel_plugin(name: str) -> Plugin | None:
    """The registration of kernel ``name`` (None for ``module:...`` kernels)."""
    return registered(GROUPS["kernels"]).get(name)


@functools.cache
def kernel_named(name: str) -> KernelModule:
    """The registered kernel ``name``, loaded (a model reads its kernel's declarations so, never by module path)."""
    return resolve_kernel(name)[0]


def kernel_conflicts() -> dict[str, list[Plugin]]:
    """Kernel names registered by more than one package or module (name -> every registration): such a name is
    ambiguous, and a spec must name the module instead."""
    from ensemble.plugins import conflicts

    return conflicts(GROUPS["kernels"])


def resolve_kernel(ref: object) -> tuple[KernelModule, Model]:
    """The kernel module and model of a spec's ``kernel`` value; SpecError naming the problem otherwise.

    A kernel's identity (its ``name``: point keys, fingerprints, the run's record) is its declared ``NAME``,
    however the spec names it; a kernel that declares none is known by its registered name, else by
    ``"module:package.module"``."""
    names = kernel_names()
    if isinstance(ref, str) and ref in names:
        clash = kernel_conflicts().get(ref)
        if clash:
            options = "; ".join(f'kernel = "{USER_PREFIX}{p.value}" ({p.source})' for p in clash)
            raise SpecError("kernel", ref, f"an unambiguous kernel: {len(clash)} packages register {ref!r}, so the "
                            f"name alone does not say which; name its module: {options}")  # fmt: skip
        plugin = kernel_plugin(ref)
        kernel = _load(plugin.value, f"kernel {ref!r} of {plugin.source}", ref)
    elif isinstance(ref, str) and ref.startswith(USER_PREFIX):
        path = ref[len(USER_PREFIX) :]
        if not path or not all(part.isidentifier() for part in path.split(".")):
            raise SpecError("kernel", ref, 'a dotted module path after "module:", e.g. kernel = "module:mypackage.mykernel"')
        kernel = _load(path, ref, ref)
    else:
        raise SpecError("kernel", ref, f"{did_you_mean(ref, names)}one of {', '.join(names)}, or \"module:your.kernel.module\"")
    return kernel, model_named(kernel.analysis)


def kernel_identity(kernel: KernelModule, ref: str) -> str:
    """The name that identifies ``kernel`` (loaded for the spec's ``ref``): its declared NAME, else the name it is
    registered under (one registration of its module), else ``ref``."""
    if kernel.declares_name:
        return kernel.name
    registered_as = [n for n, p in registered(GROUPS["kernels"]).items() if p.value == kernel.path]
    return registered_as[0] if len(registered_as) == 1 else ref


def same_kernel(recorded: str, kernel: KernelModule) -> bool:
    """Whether the name a run recorded for its kernel (as an earlier version named it: ``"module:path"`` or a
    registered name) names the module of ``kernel``."""
    if recorded == kernel.name:
        return True
    if recorded.startswith(USER_PREFIX):
        return current_path(recorded[len(USER_PREFIX) :]) == kernel.path
    plugin = kernel_plugin(recorded)
    return plugin is not None and plugin.value == kernel.path


def _load(path: str, what: str, ref: str) -> KernelModule:
    try:
        kernel = load(path)
    except KernelInterfaceError as e:
        raise SpecError("kernel", ref, f"a module following the kernel protocol ({e})") from None
    except SystemExit as e:  # a module that exits when imported must not end the program silently
        raise SpecError("kernel", ref, f"an importable module (importing {what} called sys.exit({e.code!r}))") from None
    except Exception as e:  # any failure at import: missing module, syntax error, an exception of its own
        raise SpecError("kernel", ref, f"an importable module (importing {what} raised {type(e).__name__}: "
                                       f"{_one_line(e)})") from None  # fmt: skip
    name = kernel_identity(kernel, ref)
    return kernel if kernel.name == name else dataclasses.replace(kernel, name=name)


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= 200 else text[:197] + "..."
