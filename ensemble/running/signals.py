"""Holding SIGINT, SIGTERM and SIGHUP back through a step that must not be cut in two (a cluster's start, a run
directory being made and handed over), then delivering the first that came to its usual handler."""

from __future__ import annotations

import signal
import threading

__all__ = ["HELD", "Held"]

#: The signals held back.
HELD = ("SIGINT", "SIGTERM", "SIGHUP")


class Held:
    """Replace the Python handlers of :data:`HELD` by ones that only record the signal; :meth:`release` puts
    them back and raises the first recorded signal again (its own handler then runs: KeyboardInterrupt, the
    command line's, or the default action). Handlers, not the signal mask: a signal sent to the process may be
    delivered to any of its threads, and Python runs its handler in the main thread whatever the mask there.
    Outside the main thread handlers cannot be set and nothing is held back. ``release`` twice is harmless."""

    def __init__(self):
        self.got: list[int] = []
        self.previous: dict = {}
        if threading.current_thread() is not threading.main_thread():
            return
        for name in HELD:
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            handler = signal.getsignal(sig)
            if handler is not None and handler is not signal.SIG_IGN:  # None: a handler not set from Python
                self.previous[sig] = handler
                signal.signal(sig, self._record)

    def _record(self, signum, frame) -> None:
        self.got.append(signum)

    def restore(self) -> list[int]:
        """Put the handlers back; returns the signals that came meanwhile (not raised)."""
        previous, self.previous = self.previous, {}
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        got, self.got = self.got, []
        return got

    def release(self) -> None:
        """Put the handlers back and raise the first signal that came meanwhile."""
        got = self.restore()
        if got:
            signal.raise_signal(got[0])
