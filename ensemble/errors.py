"""Errors the engine reports to users: one family under :class:`EnsembleError`, each naming what is wrong.

``SpecError`` (a spec's field, value and what is allowed), ``UsageError`` (an option or argument, likewise),
``RunDirectoryError`` (a run directory that cannot be used as asked; ``StorageError`` below it when writing
fails mid-run), ``RealizationError`` (a realization failed; how to replay it), ``ExecutorError`` (a cluster
that cannot be reached or started). The command line prints each as one line.
"""

from __future__ import annotations

import difflib

__all__ = ["Cancelled", "EnsembleError", "ExecutorError", "ExecutorLost", "RealizationError", "ResultError", "RunDirectoryError",
           "SpecError", "UsageError", "did_you_mean"]  # fmt: skip


class EnsembleError(Exception):
    """Base of every error the engine raises on purpose (catch this to catch them all).

    Every subclass survives pickling (a worker process hands it to the driver, a ``multiprocessing`` pool to its
    parent): one whose ``__init__`` takes other arguments than its message defines ``__reduce__``.
    """


class SpecError(EnsembleError, ValueError):
    """Bad input in an experiment spec, found before anything is scheduled.

    Parameters
    ----------
    field : str
        Where in the spec, dotted (``"sweep.W"``, ``"times.values"``).
    value : object
        The value found there.
    allowed : str
        What is allowed, ideally with a working example.
    """

    def __init__(self, field: str, value: object, allowed: str):
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field} = {_show(value)}: allowed: {allowed}")

    def __reduce__(self):
        return type(self), (self.field, _picklable(self.value), self.allowed)


class RunDirectoryError(EnsembleError, RuntimeError):
    """The output directory cannot be used as asked (exists, or belongs to another spec)."""


class UsageError(EnsembleError, ValueError):
    """A bad command-line option or API argument (not part of a spec): names the option, the value and what is allowed."""

    def __init__(self, option: str, value: object, allowed: str):
        self.option, self.value, self.allowed = option, value, allowed
        super().__init__(f"{option} = {_show(value)}: allowed: {allowed}")

    def __reduce__(self):
        return type(self), (self.option, _picklable(self.value), self.allowed)


class RealizationError(EnsembleError, RuntimeError):
    """A realization failed; the message and fields hold what is needed to replay it alone.

    Attributes
    ----------
    point : int
        Index of the parameter point in the sweep.
    realization : int
        Realization index within the point.
    """

    def __init__(self, message: str, point: int = -1, realization: int = -1):
        super().__init__(message, point, realization)  # all in args: survives pickling across Dask
        self.point = point
        self.realization = realization

    def __str__(self) -> str:
        return str(self.args[0])


class ResultError(EnsembleError, ArithmeticError):
    """Finished blocks cannot be made into right tables (e.g. moments that overflow float64): nothing is written,
    rather than a wrong number."""


class ExecutorError(EnsembleError, RuntimeError):
    """The executor asked for cannot be reached or started (a scheduler, a batch controller)."""


class ExecutorLost(ExecutorError):
    """The executor (a Dask scheduler, the connection to it) was lost mid-run; every finished block is kept."""


class Cancelled(EnsembleError, RuntimeError):
    """The run was cancelled (``Submission.cancel()``): every finished block is kept and the run resumes."""


def _picklable(value: object) -> object:
    """``value`` if it pickles, else its repr (a bad value can be anything a user passed, e.g. a closed client)."""
    import pickle

    try:
        pickle.dumps(value)
    except Exception:
        return _Shown(_show(value))
    return value


class _Shown(str):
    """A value that did not pickle, kept as its repr (shown without quotes)."""

    def __repr__(self) -> str:
        return str(self)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_section(section: str, table: object, keys, example: str) -> dict:
    """``table`` if it is a table (a dict) whose keys are all in ``keys``; else SpecError naming the section or
    the key (with the closest key suggested) and what is allowed."""
    if not isinstance(table, dict):
        raise SpecError(section, table, f"a table, e.g. [{section}] with {example}")
    for k in table:
        if k not in keys:
            raise SpecError(f"{section}.{k}", table[k], f"{did_you_mean(k, keys)}one of {', '.join(keys)}")
    return table


def did_you_mean(word: object, choices) -> str:
    """'did you mean X? ' for the closest choice (case-insensitive), or ''."""
    lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(str(word).lower(), list(lower), n=1)
    return f"did you mean {lower[close[0]]!r}? " if close else ""
