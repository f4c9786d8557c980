"""What realizations cost on this machine: every run records it, ``ensemble validate`` reads it back.

Each task measures the CPU seconds of its realizations in the process that ran them (``time.process_time``, so
a worker's BLAS threads count) and that process's peak resident memory so far (an upper bound for the task's
own: the worker may have run heavier tasks before). The runner sums them per point; at the end of the run they
go to the run's ``run.json`` (``costs``: per point CPU seconds, realizations timed, CPU seconds per
realization, peak bytes; summed over the sessions of a run that was resumed or grown) and to this machine's
ledger, one JSON line per point and run: ``$MBL_ENSEMBLE_COSTS``, else ``~/.cache/mbl-ensemble/costs.jsonl``.

``ensemble validate`` then shows, beside each point's estimate, what earlier runs of the same kernel with the
same parameter values (the point's fingerprint, sample times included) cost on this machine (host name and
processor), and says where the kernel's cost model is off from that by more than :data:`OFF_BY`. Timings are
measurements, never results: they are not in the tables, which stay a pure function of the spec.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["OFF_BY", "Recorded", "Tally", "ledger_path", "machine", "recorded", "task_cost"]

#: A cost model further than this factor from what this machine recorded is reported.
OFF_BY = 2.0


def ledger_path() -> Path:
    env = os.environ.get("MBL_ENSEMBLE_COSTS")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mbl-ensemble" / "costs.jsonl"


def machine() -> str:
    """This machine: its host name and processor (a home directory shared by a cluster's nodes keeps them apart)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{socket.gethostname()} ({cpu}, {os.cpu_count()} cores)"


def task_cost(cpu_start: float) -> tuple[float, int]:
    """(CPU seconds since ``cpu_start``, this process's peak resident bytes): measured at the end of a task."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if platform.system() == "Darwin" else 1024)
    return time.process_time() - cpu_start, int(peak)


class Tally:
    """Per point of a run: CPU seconds, realizations timed and the largest peak memory of the tasks that ran
    (with each point's kernel and fingerprint, from its tasks: a session stopped half-way records what it ran)."""

    def __init__(self):
        self.points: dict[int, list] = {}

    def add(self, task, realizations: int, cost) -> None:
        if cost is None:
            return
        seconds, peak = cost
        row = self.points.setdefault(task.key, [0.0, 0, 0, task.kernel, task.fingerprint])
        row[0] += float(seconds)
        row[1] += int(realizations)
        row[2] = max(row[2], int(peak))

    def record(self, path: Path | None) -> dict:
        """run.json's ``costs``, merged with what earlier sessions of the run recorded; appended to the ledger."""
        if not self.points:
            return {}
        earlier = {}
        if path is not None:
            from ensemble.store.layout import read_record

            try:
                earlier = read_record(path).get("costs") or {}
            except Exception:  # a damaged record is reported by the run's own checks
                earlier = {}
        out = dict(earlier)
        lines = []
        here, now = machine(), time.strftime("%Y-%m-%dT%H:%M:%S%z")
        for key, (seconds, n, peak, kernel, fp) in sorted(self.points.items()):
            hex_key = f"{key:016x}"
            old = earlier.get(hex_key) or {}
            total_s, total_n = seconds + float(old.get("cpu_seconds", 0.0)), n + int(old.get("realizations", 0))
            out[hex_key] = {"cpu_seconds": total_s, "realizations": total_n,
                            "seconds_per_realization": total_s / total_n if total_n else None,
                            "peak_bytes": max(peak, int(old.get("peak_bytes") or 0)), "machine": here}  # fmt: skip
            lines.append({"kernel": kernel, "fingerprint": fp, "machine": here, "time": now, "realizations": n,
                          "seconds_per_realization": seconds / n if n else None, "peak_bytes": peak,
                          "run": str(Path(path).resolve()) if path is not None else None})  # fmt: skip
        _append(lines)
        self.points.clear()  # recorded once, whichever way the session ends
        return out


def _append(lines: list[dict]) -> None:
    """Append to the ledger (one write per line, O_APPEND: concurrent runs do not interleave); never fails a run."""
    if not lines:
        return
    target = ledger_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            for line in lines:
                os.write(fd, (json.dumps(line, sort_keys=True) + "\n").encode())
        finally:
            os.close(fd)
    except OSError:
        pass


@dataclass(frozen=True)
class Recorded:
    """What earlier runs on this machine measured for one point: CPU seconds per realization (weighted by the
    realizations each timed), their number, peak bytes, and the latest time."""

    seconds: float
    realizations: int
    peak_bytes: int
    latest: str


def recorded(exp) -> dict[int, Recorded]:
    """Point key -> what this machine's ledger holds for the point's kernel and parameter values."""
    from ensemble.spec.seeding import fingerprint

    target = ledger_path()
    if not target.is_file():
        return {}
    want = {fingerprint(exp.kernel, pt.params): pt.key for pt in exp.points}
    here = machine()
    acc: dict[int, list] = {}
    try:
        with open(target) as f:
            for text in f:
                try:
                    row = json.loads(text)
                except ValueError:
                    continue
                if not isinstance(row, dict) or row.get("machine") != here or row.get("kernel") != exp.kernel.name:
                    continue
                key = want.get(row.get("fingerprint"))
                s, n = row.get("seconds_per_realization"), row.get("realizations")
                if key is None or not isinstance(s, (int, float)) or not isinstance(n, int) or n <= 0:
                    continue
                a = acc.setdefault(key, [0.0, 0, 0, ""])
                a[0] += float(s) * n
                a[1] += n
                a[2] = max(a[2], int(row.get("peak_bytes") or 0))
                a[3] = max(a[3], str(row.get("time", "")))
    except OSError:
        return {}
    return {k: Recorded(a[0] / a[1], a[1], a[2], a[3]) for k, a in acc.items() if a[1]}
