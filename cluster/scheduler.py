"""An existing Dask cluster: a scheduler address or scheduler file, or a ``distributed.Client`` the caller made."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ensemble.errors import UsageError
from ensemble.running.executors import ExecutorRequest, default_workers

if TYPE_CHECKING:  # annotations only: Dask is imported when a cluster starts
    from distributed import Client

    from cluster.executor import DaskExecutor

from cluster.errors import ClusterError
from cluster.local import refuse_job_options

__all__ = ["BACKEND", "CONNECT_TIMEOUT", "SchedulerBackend", "connect", "scheduler_address"]


#: Seconds an unreachable scheduler is waited for (the docs promise an answer within this).
CONNECT_TIMEOUT = 10.0


def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> Client:
    """A client of a running scheduler: ``tcp://HOST:PORT``, or a scheduler file (``*.json``).

    Raises ClusterError naming the problem: a scheduler file that is missing or
    holds no address, or a scheduler that does not answer within ``timeout`` seconds.
    """
    from distributed import Client

    if address.endswith(".json") or os.path.isfile(address):
        address = scheduler_address(address)
    try:
        return Client(address, timeout=timeout)
    except Exception as e:  # refused, timed out, or something else answering there (garbage frames: MemoryError)
        why = " ".join(str(e).split())[:200] or type(e).__name__
        raise ClusterError(f"cannot reach a Dask scheduler at {address} within {timeout:g} s ({type(e).__name__}: "
                           f"{why}); is it running, and is that its address?") from None  # fmt: skip


def scheduler_address(path: str) -> str:
    """The address in a Dask scheduler file (written by ``dask scheduler --scheduler-file``)."""
    try:
        doc = json.loads(Path(path).read_text())
        address = doc["address"]
    except OSError as e:
        raise ClusterError(f"cannot read the scheduler file {path} ({e.strerror})") from None
    except (ValueError, KeyError, TypeError):
        raise ClusterError(f"{path} is not a Dask scheduler file (expected JSON with an \"address\", as "
                           "dask scheduler --scheduler-file writes)") from None  # fmt: skip
    if not isinstance(address, str) or "://" not in address:
        raise ClusterError(f"{path}: the scheduler address {address!r} is not an address like tcp://HOST:PORT")
    return address


class SchedulerBackend:
    """Run on a scheduler that is already running (``--scheduler``), or on a client (``ensemble.run(client=...)``)."""

    name = "dask"

    def configure(self, request: ExecutorRequest, options: dict) -> ExecutorRequest:
        refuse_job_options(self.name, options)
        return request

    def planned_workers(self, request: ExecutorRequest) -> int:
        return request.workers or default_workers(request.threads)

    def planned_memory_per_worker(self, request: ExecutorRequest) -> None:
        return None  # known after connecting: the executor reports the workers' limits

    def time_limit(self, request: ExecutorRequest) -> None:
        return None

    def preflight(self, request: ExecutorRequest) -> None:
        if request.client is None and request.scheduler is None:
            raise UsageError("--scheduler", None, "a scheduler address for the dask executor, e.g. tcp://HOST:8786")

    def make(self, request: ExecutorRequest) -> DaskExecutor:
        from cluster.executor import DaskExecutor

        if request.client is not None:
            client, close = request.client, False
        else:
            client, close = connect(request.scheduler), True
        return DaskExecutor(client, name=f"Dask scheduler {client.scheduler.address}", threads=request.threads,
                            close_client=close)  # fmt: skip


BACKEND = SchedulerBackend()
