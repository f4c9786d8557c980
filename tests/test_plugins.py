"""A physicist's own model as a plugin (issue 23): an out-of-tree package (what ``ensemble new-kernel ramsey``
writes, generated from the same template for every test run, so the two cannot drift) registering one kernel and one analysis through entry points is
installed with pip into a directory of its own, and through the command line, with real processes, it is
listed with where it comes from, validated, run serially and on a local cluster with identical tables,
reported, refitted, drawn and queried; the conformance tests pass with it registered; its own test passes.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ensemble.present.template import skeleton
from tests.helpers import HANG_GUARD, assert_tables_identical, read_tables

ROOT = Path(__file__).resolve().parent.parent


def write_plugin(directory: Path) -> Path:
    """The plugin the tests install: the new-kernel template's files for a kernel called ramsey."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in skeleton("ramsey").items():
        (directory / name).write_text(text)
    return directory

SPEC = """
kernel = "ramsey"
seed = 5
realizations = 40
batch_size = 10
[sweep]
W = [0.5, 2.0]
[times]
values = [0.25, 0.5, 1.0, 2.0, 4.0]
"""


def test_new_kernel_writes_the_template(tmp_path):
    made = skeleton("ramsey")
    res = subprocess.run([sys.executable, "-m", "ensemble", "new-kernel", "ramsey", "--out", str(tmp_path / "r")],
                         capture_output=True, text=True, timeout=HANG_GUARD)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert sorted(made) == sorted(p.name for p in (tmp_path / "r").iterdir())
    for name, text in made.items():
        assert (tmp_path / "r" / name).read_text() == text, name
    plugin = [n for n in made if not n.startswith("test_")]
    assert len(plugin) == 3 and sum(made[n].count("\n") for n in plugin) < 150  # the target
    res = subprocess.run([sys.executable, "-m", "ensemble", "new-kernel", "my_chain", "--out", str(tmp_path / "k")],
                         capture_output=True, text=True, timeout=HANG_GUARD)  # fmt: skip
    assert res.returncode == 0 and (tmp_path / "k" / "my_chain.py").exists(), res.stderr
    again = subprocess.run([sys.executable, "-m", "ensemble", "new-kernel", "my_chain", "--out", str(tmp_path / "k")],
                           capture_output=True, text=True, timeout=HANG_GUARD)  # fmt: skip
    assert again.returncode == 2 and "empty directory" in again.stderr  # never overwrites
    bad = subprocess.run([sys.executable, "-m", "ensemble", "new-kernel", "My-Chain"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=HANG_GUARD)  # fmt: skip
    assert bad.returncode == 2 and "lowercase Python identifier" in bad.stderr and not (tmp_path / "My-Chain").exists()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The plugin installed by pip (a wheel built from its pyproject.toml) into a directory on PYTHONPATH."""
    tmp = tmp_path_factory.mktemp("plugin")
    src, target = write_plugin(tmp / "src"), tmp / "site"
    isolation = ["--no-build-isolation"] if _can_build_here() else []  # else pip fetches setuptools itself
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", *isolation, "--target",
                          str(target), str(src)], capture_output=True, text=True, timeout=HANG_GUARD)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert list(target.glob("ramsey-0.1.0.dist-info/entry_points.txt"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT)])}
    return tmp, env


def _can_build_here() -> bool:
    """Whether this environment's setuptools builds wheels by itself (>= 70.1, or with the wheel package)."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    from importlib.metadata import version

    major, minor = (int(x) for x in version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def cli(env, *args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "ensemble", *map(str, args)], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=HANG_GUARD)  # fmt: skip


@pytest.mark.cluster
def test_a_plugin_kernel_gets_everything_a_built_in_one_does(installed):
    tmp, env = installed
    listed = cli(env, "kernels")
    assert listed.returncode == 0 and "ramsey: Ramsey signal" in listed.stdout, listed.stderr
    assert "analysis: ramsey_decay\n    from: ramsey 0.1.0" in listed.stdout
    described = cli(env, "kernels", "ramsey")
    assert "from: ramsey 0.1.0 (plugin: ramsey)" in described.stdout and "no description" not in described.stdout
    assert "Half-width of the field distribution" in described.stdout
    spec = tmp / "ramsey.toml"
    spec.write_text(SPEC)
    valid = cli(env, "validate", spec)
    assert valid.returncode == 0 and "(cost model)" in valid.stdout, valid.stderr
    serial = cli(env, "run", spec, "--out", tmp / "serial", "--executor", "serial", "--no-progress")
    local = cli(env, "run", spec, "--out", tmp / "local", "--workers", "2", "--no-progress")
    for res in (serial, local):
        assert res.returncode == 0 and "Dephasing time T" in res.stdout and "[resolved]" in res.stdout, res.stderr
    assert_tables_identical(read_tables(tmp / "serial"), read_tables(tmp / "local"))
    refit = cli(env, "fit", tmp / "serial")
    assert refit.returncode == 0 and "Dephasing time T" in refit.stdout, refit.stderr
    drawn = cli(env, "plot", tmp / "serial")
    assert drawn.returncode == 0 and "ramsey_signal.png" in drawn.stdout, drawn.stderr
    q = cli(env, "query", tmp / "serial", "SELECT W, round(T, 2) AS T FROM fits WHERE fit = 'dephasing' ORDER BY W")
    assert q.returncode == 0 and len(q.stdout.split()) == 6, q.stdout + q.stderr  # header and two points
    # sinc(W T) = 1/e at W T = 2.0: inside the sampled times at W = 2 (T = 1, within its error and the coarse grid's
    # linear interpolation), beyond them at W = 0.5 (T = 4 = the last time), which the plugin's row says
    fits = read_tables(tmp / "serial")["fits"].set_index("W")
    T, err = fits["T"][2.0], fits["T_err"][2.0]
    assert abs(T * 2.0 - 2.0) < 4 * err * 2.0 + 0.25 and fits["status"][2.0] == "resolved"
    assert fits["status"][0.5] == "at range edge"


def test_conformance_holds_with_the_plugin_registered(installed):
    _, env = installed
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/test_conformance.py", "-k", "documents_its_parameters"], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=HANG_GUARD)  # fmt: skip
    assert res.returncode == 0 and "[ramsey]" not in res.stdout, res.stdout[-2000:]
    collected = subprocess.run([sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider",
                                "tests/test_conformance.py", "-k", "documents_its_parameters"], capture_output=True,
                               text=True, env=env, cwd=ROOT, timeout=HANG_GUARD)  # fmt: skip
    assert "documents_its_parameters[ramsey]" in collected.stdout  # the plugin is among the kernels checked


def test_the_plugins_own_test_passes(installed, tmp_path):
    _, env = installed
    (tmp_path / "test_ramsey.py").write_text(skeleton("ramsey")["test_ramsey.py"])
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_ramsey.py"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=HANG_GUARD)  # fmt: skip
    assert res.returncode == 0 and "2 passed" in res.stdout, res.stdout[-2000:]


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_the_static_skeleton_installs_and_passes_its_own_test(tmp_path):
    """ensemble new-kernel NAME --static: a kernel without time dependence (the levels of a random 2 x 2 matrix,
    Rayleigh splitting), its analysis (level repulsion pi/4) and its test against the closed forms with a
    negative control; installed by pip and run through the engine."""
    src, target = tmp_path / "src", tmp_path / "site"
    res = subprocess.run([sys.executable, "-m", "ensemble", "new-kernel", "levels2x2", "--static", "--out", str(src)],
                         capture_output=True, text=True, timeout=HANG_GUARD)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "DEFAULT_TIMES" not in (src / "levels2x2.py").read_text() and "times" not in skeleton("x", static=True)["x.py"]
    isolation = ["--no-build-isolation"] if _can_build_here() else []
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", *isolation, "--target",
                          str(target), str(src)], capture_output=True, text=True, timeout=HANG_GUARD)  # fmt: skip
    assert res.returncode == 0, res.stderr
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT)])}
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_levels2x2.py"],
                         capture_output=True, text=True, env=env, cwd=src, timeout=HANG_GUARD)  # fmt: skip
    assert res.returncode == 0 and "2 passed" in res.stdout, res.stdout[-2000:]
