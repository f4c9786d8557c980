"""Every exception class of the project survives pickling (issue 33): one raised in a worker process reaches the
driver whole, through Dask or a multiprocessing pool (which hangs forever on an exception it cannot unpickle)."""

from __future__ import annotations

import importlib
import inspect
import multiprocessing
import pickle
import pkgutil

import pytest

import cluster
import ensemble
import kernels
from tests.helpers import HANG_GUARD

#: Example arguments by parameter name: a new exception class whose constructor takes another name fails the
#: test until it is added here (and its pickling thought about).
EXAMPLES = {"field": "sweep.W", "option": "--workers", "value": [1, "x"], "allowed": "an integer >= 1",
            "message": "it failed", "point": 3, "realization": 17, "names": ["y", "z"], "position": 4,
            "overflow": True, "args": ("a message",)}  # fmt: skip


def exception_classes() -> list[type]:
    found = set()
    for pkg in (ensemble, kernels, cluster):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for obj in vars(module).values():
                if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                    found.add(obj)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def make(cls: type) -> BaseException:
    params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
    args = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            args += list(EXAMPLES["args"])
        elif p.kind is p.VAR_KEYWORD:
            continue
        else:
            assert p.name in EXAMPLES, f"{cls.__qualname__}({p.name}=...): add an example value to EXAMPLES"
            args.append(EXAMPLES[p.name])
    return cls(*args)


CLASSES = exception_classes()


def test_the_classes_are_found():
    names = {c.__name__ for c in CLASSES}
    assert {"SpecError", "UsageError", "ParameterError", "RealizationError", "ClusterConfigError", "StorageError",
            "NonFiniteSample", "KernelInterfaceError"} <= names  # fmt: skip


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
def test_every_exception_round_trips_through_pickle(cls):
    e = make(cls)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is cls and str(back) == str(e)
    for attr in ("field", "option", "value", "allowed", "point", "realization", "names", "position", "overflow"):
        if hasattr(e, attr):
            assert getattr(back, attr) == getattr(e, attr), attr


def test_a_value_that_does_not_pickle_is_kept_as_its_repr():
    class Closed:
        def __reduce__(self):
            raise TypeError("cannot pickle a closed client")

        def __repr__(self):
            return "<Client: closed>"

    back = pickle.loads(pickle.dumps(ensemble.UsageError("client", Closed(), "an open client")))
    assert str(back) == "client = <Client: closed>: allowed: an open client" and repr(back.value) == "<Client: closed>"


def _bad_params(_):
    from kernels.front.anderson_trajectory import Params

    return Params(L=-1)


def test_a_parameter_error_in_a_pool_worker_reaches_the_parent():
    from kernels._params import ParameterError

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result = pool.map_async(_bad_params, [0])
        with pytest.raises(ParameterError, match="L = -1"):
            result.get(timeout=HANG_GUARD)  # unpicklable, it would hang here
