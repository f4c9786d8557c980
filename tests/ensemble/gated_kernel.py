"""A kernel whose realizations wait for the test's permission: tests of running processes (status, locks,
kills, signals) decide how far a run gets by counting, never by how fast the machine is.

``gate`` names a directory holding ``allow``, an integer: realizations are numbered in the order they start,
across every process of the run (``taken``, incremented under a lock), and realization number ``k`` starts
only once ``allow >= k``. :func:`Gate.open` lets ``n`` more run; :func:`Gate.release` lets all run. The
partials a task writes are then counted by the test. An empty ``gate`` (the warm-up point) never waits.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

NAME = "gated"

#: 2 points x {n} realizations, one block each, one task per block, behind the gate {gate}.
SPEC = """
kernel = "module:tests.ensemble.gated_kernel"
seed = {seed}
realizations = {n}
batch_size = 1
block_size = 1
[params]
gate = "{gate}"
[sweep]
a = [1.0, 2.0]
[times]
values = [1.0, 2.0]
"""


@dataclass(frozen=True)
class Params:
    """A realization that waits at a gate.

    Parameters
    ----------
    a : float
        Scale of the output.
    gate : str
        Directory of the gate (see the module docstring); empty: no gate.
    delay : float
        Wall seconds each realization sleeps (a worker kept busy without using a core), >= 0.
    die : bool
        Realizations at a = 2 kill their own process (SIGKILL, as the out-of-memory killer does): for tests of
        an executor's recovery. Never run serially (it would kill the test).
    """

    #: die = false keeps the keys and fingerprints the kernel had before it had the field.
    SEED_OMIT_AT = {"die": False}
    FINGERPRINT_OMIT_AT = {"die": False}

    a: float = 1.0
    gate: str = ""
    delay: float = 0.0
    die: bool = False
    times: tuple[float, ...] = field(default=(1.0,))


def warmup_params() -> Params:
    return Params()


def cost(p: Params) -> float:
    """CPU seconds of a realization (next to none): a cost model, so the engine does not measure one at a closed gate."""
    return 1e-4


def schema(p: Params):
    return {"x": {"t": np.asarray(p.times)}}


def sample(p: Params, rng: np.random.Generator):
    return rng.normal(size=len(p.times))


def realize(p: Params, z: np.ndarray):
    if p.die and p.a == 2.0:
        os.kill(os.getpid(), signal.SIGKILL)
    if p.gate:
        Gate(p.gate).wait_for_turn()
    if p.delay > 0:
        time.sleep(p.delay)
    return {"x": p.a * z}


class Gate:
    """The test's side (and the kernel's) of a gate directory."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def create(self, allow: int = 0) -> Gate:
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "taken").write_text("0")
        self.set(allow)
        return self

    def set(self, allow: int) -> None:
        tmp = self.path / ".allow.tmp"
        tmp.write_text(str(allow))
        os.replace(tmp, self.path / "allow")

    def allowed(self) -> int:
        return int((self.path / "allow").read_text())

    def open(self, n: int) -> None:
        """Let ``n`` more realizations start."""
        self.set(self.allowed() + n)

    def release(self) -> None:
        self.set(10**12)

    def taken(self) -> int:
        return int((self.path / "taken").read_text() or 0)

    def wait_for_turn(self) -> None:
        with open(self.path / "taken", "r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            mine = int(f.read() or 0) + 1
            f.seek(0)
            f.truncate()
            f.write(str(mine))
        while mine > self.allowed():
            time.sleep(0.005)
