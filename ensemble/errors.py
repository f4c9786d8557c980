"""Errors the engine reports to users."""

from __future__ import annotations

__all__ = ["RealizationError", "RunDirectoryError", "SpecError"]


class SpecError(ValueError):
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


class RunDirectoryError(RuntimeError):
    """The output directory cannot be used as asked (exists, or belongs to another spec)."""


class RealizationError(RuntimeError):
    """A realization failed; the message holds what is needed to replay it alone."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
