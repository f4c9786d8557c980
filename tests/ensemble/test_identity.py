"""A kernel is known by its declared NAME however a spec names it, a name two packages register is ambiguous,
and a plugin that exits while imported is one line (issue 33). Plugins are registered here by dist-info
directories on PYTHONPATH, as pip would leave them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pathlib import Path


from tests.ensemble.test_hardening import one_line_error
from tests.helpers import HANG_GUARD, assert_tables_identical, read_tables

KERNEL = '''
"""A spin in a random field: <sigma^z(t)> = cos(h t)."""
from dataclasses import dataclass, field
import numpy as np
{name}
DEFAULT_TIMES = {{"start": 1.0, "stop": 4.0, "num": 3}}
@dataclass(frozen=True)
class Params:
    """Parameters

    W : float
        field width
    times : tuple
        sample times
    """
    W: float = 1.0
    times: tuple = field(default=(1.0,))
def warmup_params(): return Params()
def schema(p): return {{"sz": {{"t": np.asarray(p.times)}}}}
def sample(p, rng): return rng.uniform(-p.W, p.W)
def realize(p, h): return {{"sz": np.cos(h * np.asarray(p.times))}}
'''


def dist_info(site: Path, dist: str, entries: dict[str, str]) -> None:
    d = site / f"{dist}-1.0.dist-info"
    d.mkdir(parents=True)
    (d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entries.items())
    (d / "entry_points.txt").write_text(f"[mbl_ensemble.kernels]\n{lines}\n")


def cli(site: Path, *args, cwd=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "ensemble", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd or site, timeout=HANG_GUARD)  # fmt: skip


SPEC = 'kernel = "{ref}"\nseed = 4\nrealizations = {n}\nblock_size = 2\n[sweep]\nW = [1.0, 2.0]\n'


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_a_run_named_by_module_resumes_and_grows_under_the_registered_name(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "spinz.py").write_text(KERNEL.format(name='NAME = "spinz"'))
    dist_info(site, "spinz", {"spinz": "spinz"})
    (tmp_path / "a.toml").write_text(SPEC.format(ref="module:spinz", n=4))
    (tmp_path / "b.toml").write_text(SPEC.format(ref="spinz", n=8))
    (tmp_path / "fresh.toml").write_text(SPEC.format(ref="spinz", n=8))
    out, fresh = tmp_path / "run", tmp_path / "fresh"
    assert cli(site, "run", tmp_path / "a.toml", "--out", out, "--executor", "serial", "--no-progress").returncode == 0
    res = cli(site, "run", tmp_path / "b.toml", "--out", out, "--executor", "serial", "--no-progress", "--resume")
    assert res.returncode == 0 and "grows" in res.stderr, res.stderr
    assert cli(site, "run", tmp_path / "fresh.toml", "--out", fresh, "--executor", "serial", "--no-progress").returncode == 0
    assert_tables_identical(read_tables(out), read_tables(fresh))
    v = [cli(site, "validate", tmp_path / f"{n}.toml").stdout for n in ("a", "b")]
    keys = [[ln.split("key ")[1].split()[0] for ln in text.splitlines() if " key " in ln] for text in v]
    assert keys[0] == keys[1] and len(keys[0]) == 2


def test_a_run_recorded_under_module_path_keeps_its_identity(tmp_path):
    """A kernel without NAME run as module:... is known by that; registered later, a spec by its registered name
    resumes the same run (its keys are the run's, so nothing is recomputed)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "nonamek.py").write_text(KERNEL.format(name=""))
    (tmp_path / "a.toml").write_text(SPEC.format(ref="module:nonamek", n=4))
    out = tmp_path / "run"
    assert cli(site, "run", tmp_path / "a.toml", "--out", out, "--executor", "serial", "--no-progress").returncode == 0
    before = read_tables(out)
    dist_info(site, "noname", {"noname": "nonamek"})
    (tmp_path / "b.toml").write_text(SPEC.format(ref="noname", n=4))
    res = cli(site, "run", tmp_path / "b.toml", "--out", out, "--executor", "serial", "--no-progress", "--resume")
    assert res.returncode == 0 and "already done" in res.stdout, res.stdout + res.stderr
    assert_tables_identical(read_tables(out), before)


def test_a_name_two_packages_register_is_listed_and_refused(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    for mod in ("spin_a", "spin_b"):
        (site / f"{mod}.py").write_text(KERNEL.format(name=""))
    dist_info(site, "pkga", {"twin": "spin_a"})
    dist_info(site, "pkgb", {"twin": "spin_b", "anderson_trajectory": "spin_b"})  # and one named like a built-in
    listing = cli(site, "kernels")
    assert listing.returncode == 0, listing.stderr
    assert "twin: AMBIGUOUS" in listing.stdout and 'kernel = "module:spin_a"' in listing.stdout
    assert "anderson_trajectory: AMBIGUOUS" in listing.stdout and 'kernel = "module:spin_b"' in listing.stdout
    (tmp_path / "s.toml").write_text(SPEC.format(ref="twin", n=4))
    one_line_error(cli(site, "validate", tmp_path / "s.toml"), "kernel", "twin", "unambiguous", "module:spin_a")
    (tmp_path / "m.toml").write_text(SPEC.format(ref="module:spin_b", n=4))
    assert cli(site, "validate", tmp_path / "m.toml").returncode == 0


def test_a_plugin_that_exits_when_imported_is_one_line(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "quitter.py").write_text("import sys\nsys.exit(3)\n")
    (tmp_path / "s.toml").write_text('kernel = "module:quitter"\nseed = 1\nrealizations = 2\n')
    one_line_error(cli(site, "validate", tmp_path / "s.toml"), "kernel", "sys.exit(3)")
    dist_info(site, "quitpkg", {"quitter": "quitter"})
    res = cli(site, "kernels")
    assert res.returncode == 0 and "quitter: cannot be loaded" in res.stdout and "sys.exit(3)" in res.stdout, res.stdout


def test_a_kernel_named_by_its_path_before_the_family_move_is_found():
    """Kernels moved into family packages (kernels/front/, ...): a spec or a run's record naming the old module path
    finds the same kernel, with the same identity (its NAME), so its keys and seeds are unchanged."""
    from ensemble.errors import SpecError
    from ensemble.models import kernel_named, resolve_kernel, same_kernel
    from kernels._interface import MOVED

    for old, new in MOVED.items():
        kernel, _ = resolve_kernel(f"module:{old}")
        assert kernel.path == new and kernel.name == old.rsplit(".", 1)[1]
        assert same_kernel(f"module:{old}", kernel_named(kernel.name))
    assert not same_kernel("module:kernels.xxz_trajectory", kernel_named("xxz_bubble"))  # negative control
    with pytest.raises(SpecError):
        resolve_kernel("module:kernels.no_such_kernel")
