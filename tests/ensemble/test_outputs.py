"""Kernel outputs are checked where the engine receives them (issue 33): a realization whose outputs are not what
the kernel's schema declares (complex, too large to average, undeclared, misshapen, not arrays at all) stops the
run with one line naming the kernel, the point, the realization, the observable and what was expected, and a
replay command that works, instead of a wrong table with exit 0 or a raw traceback.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest

import ensemble
from ensemble.running.tasks import OutputError, check_outputs
from tests.ensemble.test_hardening import one_line_error, spec_file
from tests.helpers import HANG_GUARD

KERNEL = '''
"""A kernel whose outputs go wrong on purpose, from realization {bad_from} on."""
from dataclasses import dataclass, field
import numpy as np
NAME = "badout"
DEFAULT_TIMES = {{"start": 1.0, "stop": 2.0, "num": 2}}
@dataclass(frozen=True)
class Params:
    mode: str = "ok"
    scale: float = 1.0
    times: tuple = field(default=(1.0, 2.0))
def warmup_params(): return Params()
def schema(p): return {{"y": {{"t": np.asarray(p.times)}}, "s": {{}}}}
def sample(p, rng): return rng.normal()
def realize(p, d):
    y = np.full(len(p.times), d) * p.scale
    good = {{"y": y, "s": d}}
    if p.mode == "ok" or abs(d) < -1:
        return good
    return {{
        "complex": {{"y": y + 1j, "s": d}},
        "huge": {{"y": y * 0 + 1e300 * (1.0 + d), "s": d}},
        "extra": {{"y": y, "s": d, "z": 1.0}},
        "missing": {{"y": y}},
        "shape": {{"y": np.zeros(3), "s": d}},
        "string": "y",
        "empty": {{}},
        "scalar": 1.0,
        "none": None,
        "text": {{"y": ["a", "b"], "s": d}},
        "ragged": {{"y": [[1.0], [1.0, 2.0]], "s": d}},
        "nan": {{"y": y * np.nan, "s": d}},
        "ints": {{"y": np.arange(len(p.times)), "s": 3}},
        "bigint": {{"y": np.full(len(p.times), 2**62), "s": 3}},
    }}[p.mode]
'''


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("badout")
    (tmp / "badout.py").write_text(KERNEL.format(bad_from=0))
    return tmp, {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp), os.environ.get("PYTHONPATH", "")])}


def cli(plugin, *args):
    tmp, env = plugin
    return subprocess.run([sys.executable, "-m", "ensemble", *map(str, args)], capture_output=True, text=True,
                          cwd=tmp, env=env, timeout=HANG_GUARD)  # fmt: skip


def spec(tmp, mode: str, name: str) -> str:
    return str(spec_file(tmp, f'kernel = "module:badout"\nseed = 3\nrealizations = 6\nblock_size = 2\n'
                              f'[params]\nmode = "{mode}"\n[sweep]\nscale = [1.0, 2.0]\n', f"{name}.toml"))  # fmt: skip


#: mode -> (the observable named, what was expected); every mode goes wrong at realization 0 (but "huge", whose
#: values are finite: the second realization of the block overflows the accumulated moments).
BAD = {
    "complex": ("'y'", "complex"),
    "huge": ("y", "overflow"),
    "extra": ("'z'", "does not declare"),
    "missing": ("'s'", "declares"),
    "shape": ("'y'", "shape (3,)"),
    "string": ("str", "expected a dict"),
    "empty": ("'y'", "declares"),
    "scalar": ("float", "expected a dict"),
    "none": ("NoneType", "expected a dict"),
    "text": ("'y'", "dtype"),
    "ragged": ("'y'", "not an array"),
    "nan": ("y", "non-finite"),
    "bigint": ("'y'", "2**53"),
}


@pytest.mark.parametrize("mode", sorted(BAD))
def test_a_bad_output_stops_the_run_in_one_line_with_a_replay_that_works(plugin, mode):
    tmp, _ = plugin
    out = tmp / f"run_{mode}"
    res = cli(plugin, "run", spec(tmp, mode, mode), "--out", out, "--executor", "serial", "--no-progress")
    observable, expected = BAD[mode]
    r = 1 if mode == "huge" else 0
    line = one_line_error(res, "kernel badout", f"realization {r} of point 0", observable, expected, code=1)
    assert "scale=1.0" in line.replace(" ", "") or "scale=1" in line.replace(" ", ""), line
    assert not out.exists()  # the first block failed: nothing is kept, and the advice says so
    replay = re.search(r"Replay it alone: (ensemble replay .*)", res.stderr).group(1)
    assert "nothing is kept" in res.stderr and "--resume" not in res.stderr
    args = shlex.split(replay)[1:]
    again = cli(plugin, *args)
    assert again.returncode == 1 and "Traceback" not in again.stderr, again.stderr
    assert (expected if mode != "huge" else "too large").lower() in (again.stdout + again.stderr).lower()


def test_the_api_raises_the_same_error_and_writes_no_table(plugin, tmp_path):
    tmp, _ = plugin
    sys.path.insert(0, str(tmp))
    try:
        with pytest.raises(ensemble.RealizationError, match="complex") as e:
            ensemble.run(spec(tmp, "complex", "api"), out=tmp_path / "r", executor="serial")
        assert (e.value.point, e.value.realization) == (0, 0)
        assert not (tmp_path / "r").exists()
        ok = ensemble.run(spec(tmp, "ints", "ints"), out=tmp_path / "ints", executor="serial")  # integers: cast on purpose
        y = ok.summary.query("observable == 'y'")
        assert list(y["mean"]) == [0.0, 1.0] * 2 and (y["sem"] == 0).all()
    finally:
        sys.path.remove(str(tmp))


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_a_bad_output_on_the_local_cluster_is_the_same_one_line(plugin):
    tmp, _ = plugin
    res = cli(plugin, "run", spec(tmp, "huge", "cluster"), "--out", tmp / "run_cluster", "--workers", "2", "--no-progress")
    one_line_error(res, "kernel badout", "point 0", "overflow", code=1)


def test_check_outputs_directly():
    schema = {"y": {"t": np.arange(2.0)}, "s": {}}
    out = check_outputs({"y": np.array([1, 2], dtype=np.int32), "s": np.float32(0.5)}, schema)
    assert out["y"].dtype == np.float64 and out["s"].shape == () and out["s"] == 0.5
    for bad in ({"y": np.zeros(2, complex), "s": 0.0}, {"y": np.zeros((2, 1)), "s": 0.0}, {"y": np.zeros(2)},
                {"y": np.zeros(2), "s": 0.0, "extra": 1}, [1.0], {"y": "ab", "s": 0.0}):  # fmt: skip
        with pytest.raises(OutputError):
            check_outputs(bad, schema)


def test_moments_that_overflow_when_blocks_merge_write_no_table(plugin, tmp_path):
    """Blocks of one realization each (M2 = 0) overflow only when they are merged: the tables are refused."""
    from ensemble import MemoryStore, ResultError, execute, parse_spec

    tmp, _ = plugin
    sys.path.insert(0, str(tmp))
    try:
        text = 'kernel = "module:badout"\nseed = 3\nrealizations = 4\nblock_size = 1\n[params]\nscale = 1e300\n'
        with pytest.raises(ResultError, match="overflow"):
            execute(parse_spec(text), MemoryStore())
    finally:
        sys.path.remove(str(tmp))
