"""The command line's entry point (``ensemble``, ``python -m ensemble``).

Importing this module holds SIGINT, SIGTERM and SIGHUP from the first line on: a signal that comes while the
command line itself is imported is recorded here and reported by :func:`ensemble.cli.main` like any other,
in one line, instead of a traceback from the middle of an import (or a silent death by SIGTERM). Nothing else
imports this module.
"""

from __future__ import annotations

import signal

#: Signals received before the command line took over.
HELD: list[int] = []


def _hold(signum, frame) -> None:
    HELD.append(signum)


for _name in ("SIGINT", "SIGTERM", "SIGHUP"):
    _sig = getattr(signal, _name)
    if signal.getsignal(_sig) not in (signal.SIG_IGN, None):  # a signal ignored on purpose (nohup, &) stays ignored
        signal.signal(_sig, _hold)


def main() -> int:
    from ensemble.cli import main as cli_main

    code = cli_main(held=HELD)
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # exiting now: a late signal cannot turn the exit into a traceback
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    if code > 128:  # ended by a signal, reported: exit with that code, whatever the interpreter noted on the way
        _exit(code)
    return code


def _exit(code: int) -> None:
    """Run the exit handlers, flush, and exit with ``code`` at once. Seen here: about one Ctrl-C in forty during
    start-up, handled and reported by the command line, still ended the interpreter by SIGINT (exit -2 instead of
    130): CPython keeps a flag for an interrupt it saw unhandled on its way (no traceback, no Python frame to
    catch it), and acts on it at exit."""
    import atexit
    import os
    import sys

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
