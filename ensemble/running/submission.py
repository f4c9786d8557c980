"""A run that goes on in the background: what :func:`ensemble.submit` returns.

The run is the same as :func:`ensemble.run`'s (same checks, same directory, same tables); it goes on in a
thread of this process, which drives the executor (a local Dask cluster, a scheduler, batch jobs) while the
caller's thread (a notebook's kernel) stays free. Cancelling stops at the next finished task (a Dask run stops
waiting at once and cancels what is in flight); every finished block stays in the directory and the run
resumes from it.
"""

from __future__ import annotations

import concurrent.futures
import html
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ensemble.errors import Cancelled

__all__ = ["Submission", "in_notebook"]


def in_notebook() -> bool:
    """True in a Jupyter kernel (where a progress widget is wanted by default)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


class Submission:
    """A run in progress in the background (made by :func:`ensemble.submit`).

    Attributes
    ----------
    path : Path
        The run directory (readable while the run goes: ``ensemble.open_run(path)``, ``ensemble status``).
    name : str
        The experiment's name.
    """

    def __init__(self, exp, out):
        self.path = Path(out)
        self.name = exp.name
        self._cancel = threading.Event()
        self._opened = threading.Event()
        self._future: concurrent.futures.Future = concurrent.futures.Future()
        self._thread: threading.Thread | None = None

    def start(self, work: Callable) -> Submission:
        """Run ``work(cancel, on_open)`` in a thread; return once its checks passed (or raise what they raised)."""
        self._future.set_running_or_notify_cancel()
        self._thread = threading.Thread(target=self._main, args=(work,), name=f"ensemble-{self.name}", daemon=True)
        self._thread.start()
        while not self._opened.wait(0.05):
            if self._future.done():
                self._thread.join()
                self._future.result()  # a check failed: raise it in the caller's thread
        return self

    def _main(self, work: Callable) -> None:
        try:
            result = work(self._cancel, self._opened.set)
        except BaseException as e:  # handed to whoever asks for the result
            self._future.set_exception(e)
        else:
            self._future.set_result(result)

    # -- asking ---------------------------------------------------------------------------------------------
    def done(self) -> bool:
        """The run ended (finished, failed or cancelled)."""
        return self._future.done()

    def running(self) -> bool:
        return not self._future.done()

    def cancelled(self) -> bool:
        """The run ended because it was cancelled."""
        return self._future.done() and isinstance(self._future.exception(), Cancelled)

    def status(self):
        """Progress per point, rate and ETA, and provisional tables (:class:`ensemble.running.status.Status`)."""
        from ensemble.running.status import status

        return status(self.path)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends or ``timeout`` seconds pass; True if it ended. Ctrl-C here cancels the run."""
        try:
            concurrent.futures.wait([self._future], timeout=timeout)
        except KeyboardInterrupt:
            self.cancel()
            raise
        return self._future.done()

    def result(self, timeout: float | None = None):
        """The finished run as a :class:`ensemble.api.Run` (waits; raises what the run raised, e.g.
        :class:`~ensemble.errors.Cancelled`, or TimeoutError after ``timeout`` seconds)."""
        self.wait(timeout)
        return self._future.result(timeout=0)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self.wait(timeout)
        return self._future.exception(timeout=0)

    def cancel(self, timeout: float | None = None) -> bool:
        """Stop the run (at the next finished task; in-flight Dask tasks are cancelled) and wait for it to end.

        Every finished block is kept; resume with ``ensemble.submit(spec, out, resume=True)`` or
        ``ensemble run SPEC --out DIR --resume``. Returns True if the run ended by this cancel (False if it had
        already ended, or is still ending after ``timeout`` seconds).
        """
        if self._future.done():
            return False
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return self.cancelled()

    # -- showing --------------------------------------------------------------------------------------------
    def _state(self) -> str:
        if not self._future.done():
            return "cancelling" if self._cancel.is_set() else "running"
        if self.cancelled():
            return "cancelled (resumable)"
        err = self._future.exception()
        return "finished" if err is None else f"failed: {type(err).__name__}: {err}"

    def _progress(self) -> str:
        try:
            st = self.status()
        except Exception:  # a directory being set up: nothing to say yet
            return ""
        return f", {st.done}/{st.total} realizations"

    def __repr__(self) -> str:
        return f"<Submission {self.name} -> {self.path}: {self._state()}{self._progress()}>"

    def _repr_html_(self) -> str:
        state = html.escape(self._state() + self._progress())
        return (f"<table><tr><th style='text-align:left'>submission</th><td>{html.escape(self.name)}</td></tr>"
                f"<tr><th style='text-align:left'>directory</th><td><code>{html.escape(str(self.path))}</code></td></tr>"
                f"<tr><th style='text-align:left'>state</th><td>{state}</td></tr></table>")  # fmt: skip
