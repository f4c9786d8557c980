"""Settings tables of a spec (such as ``[fit]``) as frozen dataclasses, validated field by field.

A settings class is a frozen dataclass whose fields carry, in their
metadata, a ``check`` (value -> normalized value, or SpecError) and a
``doc`` line. :func:`from_table` builds one from a TOML table: unknown keys
are errors naming the keys this class knows, and every given value is
checked before anything runs.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

from ensemble.errors import SpecError, did_you_mean

__all__ = ["Scheduling", "check_scheduling", "from_table", "integer", "number", "setting", "to_dict", "window"]


def setting(default: Any, check: Callable[[str, Any], Any], doc: str):
    """A dataclass field with its validator and one line of documentation."""
    return dataclasses.field(default=default, metadata={"check": check, "doc": doc})


def number(positive: bool = True) -> Callable[[str, Any], float]:
    """Validator: a finite real number (> 0 unless ``positive`` is False)."""

    def check(field: str, v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or (positive and v <= 0):
            raise SpecError(field, v, "a finite number > 0" if positive else "a finite number")
        return float(v)

    return check


def integer(minimum: int, why: str) -> Callable[[str, Any], int]:
    """Validator: an integer >= ``minimum`` (``why`` says what the bound is for)."""

    def check(field: str, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, Integral) or v < minimum:
            raise SpecError(field, v, f"an integer >= {minimum} ({why})")
        return int(v)

    return check


def window(field: str, w: Any) -> tuple[float, float]:
    """Validator: [t_start, t_stop] with 0 < t_start < t_stop."""
    if not (isinstance(w, list | tuple) and len(w) == 2 and all(isinstance(x, Real) and not isinstance(x, bool) for x in w)
            and all(math.isfinite(x) for x in w) and 0 < w[0] < w[1]):  # fmt: skip
        raise SpecError(field, w, "[t_start, t_stop] with 0 < t_start < t_stop, e.g. window = [10.0, 1000.0]")
    return float(w[0]), float(w[1])


def from_table(cls: type, table: dict, section: str, owner: str):
    """An instance of the settings dataclass ``cls`` from a TOML table; SpecError on the first problem.

    ``owner`` names whose settings these are (e.g. "the front analysis"), for the message.
    """
    if not isinstance(table, dict):
        raise SpecError(section, table, f"a [{section}] table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for k, v in table.items():
        if k not in fields:
            known = ", ".join(fields) if fields else "none: leave the section out"
            raise SpecError(f"{section}.{k}", v, f"{did_you_mean(k, fields)}unknown key; [{section}] keys of {owner}: {known}")
    return cls(**{k: fields[k].metadata["check"](f"{section}.{k}", v) for k, v in table.items()})


def to_dict(settings) -> dict:
    """JSON-ready values (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(settings).items()}


@dataclass(frozen=True)
class Scheduling:
    """The spec's [scheduling] table: how long a task should be, and how many per worker at least."""

    task_seconds: float = setting(60.0, number(), "CPU seconds of work per task without a batch_size (tasks are whole "
                                  "blocks: a task is at least one block)")  # fmt: skip
    tasks_per_worker: int = setting(4, integer(1, "tasks per worker"), "at least this many tasks per worker over the run, "
                                    "where the blocks allow (so that workers stay busy to the end)")  # fmt: skip


def check_scheduling(table) -> Scheduling:
    """The [scheduling] table, validated (SpecError naming the key)."""
    if table is None:
        return Scheduling()
    s = from_table(Scheduling, table, "scheduling", "the scheduler")
    if not math.isfinite(s.task_seconds):
        raise SpecError("scheduling.task_seconds", s.task_seconds, "a finite number of seconds")
    return s
