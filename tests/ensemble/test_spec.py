"""Spec validation: every bad input is refused up front, naming field, value and what is allowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ensemble import SpecError, parse_spec
from ensemble.spec.seeding import point_key
from tests.helpers import HANG_GUARD

GOOD = """
kernel = "anderson_trajectory"
seed = 5
realizations = 40
batch_size = 10
[params]
L = 8
[sweep]
W = [1.0, 2.0]
[times]
start = 0.5
stop = 20.0
num = 6
"""


def spec_with(**edits: str) -> str:
    """GOOD with whole lines replaced: key -> new line ('' deletes it)."""
    lines = GOOD.strip().splitlines()
    out = []
    for line in lines:
        key = line.split("=")[0].strip()
        out.append(edits.pop(key) if key in edits else line)
    return "\n".join(out + list(edits.values()))


def test_good_spec_resolves_points_and_times():
    exp = parse_spec(GOOD, name="good")
    assert [pt.swept for pt in exp.points] == [{"W": 1.0}, {"W": 2.0}]
    t = exp.points[0].params.times
    assert t[0] == 0.5 and t[-1] == 20.0 and len(t) == 6
    assert all(abs(x / 0.05 - round(x / 0.05)) < 1e-9 for x in t)
    pt = exp.points[0]
    assert exp.block_size is None and pt.block_size == 1 and pt.n_blocks == 40  # default: ceil(40 / 100)


def test_sweep_is_a_cartesian_product_last_key_fastest():
    exp = parse_spec(spec_with(W="W = [1.0, 2.0]\nL = [8, 10, 12]", L=""))
    assert [(p.params.W, p.params.L) for p in exp.points] == [(w, L) for w in (1.0, 2.0) for L in (8, 10, 12)]


def test_explicit_times_are_kept():
    exp = parse_spec(spec_with(start="values = [0.1, 1.0, 10.0]", stop="", num=""))
    assert exp.points[0].params.times == (0.1, 1.0, 10.0)


def test_point_key_depends_on_values_not_position_or_int_vs_float():
    a = parse_spec(spec_with(W="W = [1.0, 2.0]"))
    b = parse_spec(spec_with(W="W = [2, 1, 3]"))
    assert a.points[0].key == b.points[1].key and a.points[1].key == b.points[0].key
    assert len({p.key for p in b.points}) == 3
    # sample times are not part of the key: a longer run extends the same noise sequence
    c = parse_spec(spec_with(stop="stop = 200.0"))
    assert c.points[0].key == a.points[0].key == point_key(c.kernel, c.points[0].params)


def test_a_parameter_added_later_keeps_earlier_keys_at_its_old_behaviour():
    """unraveling = "kicks" (what every earlier run did) is left out of keys and the results hash; "jumps" is not."""
    import hashlib
    import json

    from ensemble.spec.seeding import canonical_params

    kicks = parse_spec(spec_with(W="W = [1.0, 2.0]"))
    jumps = parse_spec(spec_with(W='W = [1.0, 2.0]\nunraveling = ["jumps"]'))
    p = kicks.points[0].params
    before = {k: v for k, v in canonical_params(p).items() if k not in ("times", "unraveling", "profile")}  # the key before the fields existed
    text = json.dumps(["anderson_trajectory", before], sort_keys=True, separators=(",", ":"))
    assert kicks.points[0].key == int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    assert {q.key for q in jumps.points}.isdisjoint({q.key for q in kicks.points})
    assert jumps.results_hash() != kicks.results_hash()


#: Point keys of every kernel's warmup point. These are seeds, not physics: a change here means every
#: earlier run of that kernel gets new draws and its run directories no longer resume. Adding a parameter
#: to a kernel changes them unless its Params lists the field in SEED_OMIT_AT at the value that does what
#: the kernel did before (as unraveling = "kicks"). Recorded before unraveling existed.
PINNED_KEYS = {
    "anderson_trajectory": "268a24400e950a4b",
    "xxz_trajectory": "d5ffede17a27381e",
    "rmt_bath": "eb87e436630802ea",
    "xxz_bubble": "cafb24ab96843533",
    "coupled_chains": "37c7c3a07b01823a",
    # moved on purpose with c_start (issue 16): the default start site is now the paper's i = L/2
    # counted from 1, site (L - 1) // 2 from 0, not L // 2; an old run's points are different physics
    "boson_impurity": "ce7b0c18656c6881",
    "boson_tebd": "6ce7ace38168e508",
    "xxz_exact": "e9cb45a1f6bb0558",
}


@pytest.mark.parametrize("kernel", sorted(PINNED_KEYS))
def test_point_keys_of_existing_kernels_do_not_move(kernel):
    from ensemble.models import kernel_plugin
    from kernels._interface import load

    module = load(kernel_plugin(kernel).value)
    key = f"{point_key(module, module.warmup_params()):016x}"
    assert key == PINNED_KEYS[kernel], f"{kernel}: point keys changed (new parameter? list it in Params.SEED_OMIT_AT)"


@pytest.mark.parametrize(
    "edit, field, value_text",
    [
        ({"kernel": 'kernel = "andersen_trajectory"'}, "kernel", "andersen_trajectory"),
        ({"seed": "seed = 5\nrealisations = 3"}, "realisations", "3"),
        ({"L": "L = 7"}, "params.L", "7"),
        ({"L": "l = 8"}, "params.l", "8"),
        ({"W": "W = [1.0, -2.0]"}, "sweep.W", "-2.0"),
        ({"W": "W = []"}, "sweep.W", "[]"),
        ({"W": "W = 3.0"}, "sweep.W", "3.0"),
        ({"W": "W = [1.0, 1.0]"}, "sweep.W", "[1.0, 1.0]"),
        ({"W": "W = [1.0]\ntau = [0.05, -0.1]"}, "sweep.tau", "-0.1"),
        ({"L": "L = 8\ntau = 0.0"}, "params.tau", "0.0"),
        ({"realizations": "realizations = 0"}, "realizations", "0"),
        ({"realizations": "realizations = -5"}, "realizations", "-5"),
        ({"batch_size": "batch_size = 0"}, "batch_size", "0"),
        ({"seed": "seed = -1"}, "seed", "-1"),
        ({"seed": ""}, "seed", "None"),
        ({"start": "values = [1.0, 0.5, 2.0]", "stop": "", "num": ""}, "times.values", "1.0"),
        ({"start": "values = [0.5, 0.53]", "stop": "", "num": ""}, "times.values", "0.53"),
        ({"start": "start = 30.0"}, "times.stop", "20.0"),
        ({"num": "num = 1"}, "times.num", "1"),
        ({"num": "num = 6\nstep = 2"}, "times.step", "2"),
        ({"W": "W = [1.0, 2.0]\nL = [8, 10]"}, "sweep.L", "[8, 10]"),
        ({"num": "num = 6\n[fit]\nwindow = [5.0, 1.0]"}, "fit.window", "[5.0, 1.0]"),
        ({"num": "num = 6\n[fit]\nwindow = [100.0, 200.0]"}, "fit.window", "[100.0, 200.0]"),
        ({"num": "num = 6\n[fit]\nwindwo = [1.0, 20.0]"}, "fit.windwo", "[1.0, 20.0]"),
    ],
)
def test_bad_input_names_field_value_and_allowed(edit, field, value_text):
    with pytest.raises(SpecError) as e:
        parse_spec(spec_with(**edit))
    assert e.value.field == field
    msg = str(e.value)
    assert msg.startswith(f"{field} = ")
    assert value_text in msg
    assert "allowed:" in msg


def test_misspelled_key_suggests_the_right_one():
    with pytest.raises(SpecError, match="did you mean 'realizations'"):
        parse_spec(spec_with(realizations="realisations = 40"))
    with pytest.raises(SpecError, match="did you mean 'W'"):
        parse_spec(spec_with(W="w = [1.0]"))


def test_odd_L_message_says_why():
    with pytest.raises(SpecError, match="Neel"):
        parse_spec(spec_with(L="L = 9"))


def test_invalid_toml_is_a_spec_error():
    with pytest.raises(SpecError, match="valid TOML"):
        parse_spec("kernel = ")


def test_block_and_batch_sizes():
    exp = parse_spec(spec_with(batch_size="batch_size = 7\nblock_size = 3"))
    pt = exp.points[0]
    assert exp.blocks_per_task(pt) == 3  # 7 rounded up to whole blocks of 3
    assert pt.n_blocks == 14 and len(pt.block_range(13)) == 1


# -- through the command line ----------------------------------------------------------------


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "ensemble", *args], capture_output=True, text=True, cwd=cwd, timeout=HANG_GUARD)


@pytest.mark.parametrize(
    "edit, needle",
    [
        ({"L": "L = 7"}, "params.L = 7"),
        ({"W": "W = [-1.0]"}, "sweep.W = -1.0"),
        ({"seed": "seed = 5\nrealisations = 3"}, "did you mean 'realizations'"),
        ({"start": "values = [0.5, 0.53]", "stop": "", "num": ""}, "multiples of tau"),
    ],
)
def test_cli_refuses_bad_spec_and_leaves_no_run_directory(tmp_path: Path, edit, needle):
    spec = tmp_path / "bad.toml"
    spec.write_text(spec_with(**edit))
    out = tmp_path / "run"
    res = run_cli("run", str(spec), "--out", str(out), "--executor", "serial")
    assert res.returncode == 2
    assert needle in res.stderr
    assert res.stderr.count("\n") <= 2, res.stderr  # one clear message, no traceback
    assert not out.exists()
    assert not (tmp_path / "runs").exists()


def test_cli_validate_good_spec(tmp_path: Path):
    spec = tmp_path / "good.toml"
    spec.write_text(GOOD)
    res = run_cli("validate", str(spec))
    assert res.returncode == 0, res.stderr
    assert "2 point(s)" in res.stdout and "W=2" in res.stdout


def test_resolved_log_times_are_clean_decimals():
    exp = parse_spec(spec_with(start="start = 0.1", stop="stop = 1000.0", num="num = 41"))
    t = np.array(exp.points[0].params.times)
    assert np.all(np.diff(t) > 0)
    assert all(repr(x) == repr(round(x, 10)) for x in t)


def test_realizations_per_value_of_a_swept_parameter():
    exp = parse_spec(spec_with(realizations='realizations = { by = "L", values = [30, 12] }', L="", W="W = [1.0, 2.0]\nL = [8, 10]"))
    got = {(p.params.L, p.params.W): (p.realizations, p.block_size, p.n_blocks) for p in exp.points}
    assert got == {(8, 1.0): (30, 1, 30), (10, 1.0): (12, 1, 12), (8, 2.0): (30, 1, 30), (10, 2.0): (12, 1, 12)}
    assert exp.total_realizations == 84


@pytest.mark.parametrize(
    "value, field",
    [
        ('{ by = "W", values = [30] }', "realizations.values"),
        ('{ by = "J", values = [30, 12] }', "realizations.by"),
        ('{ by = "L", values = [30, 0] }', "realizations.values"),
        ('{ by = "L", count = [30, 12] }', "realizations.count"),
    ],
)
def test_bad_realizations_table(value, field):
    with pytest.raises(SpecError) as e:
        parse_spec(spec_with(realizations=f"realizations = {value}", L="", W="W = [1.0, 2.0]\nL = [8, 10]"))
    assert e.value.field == field


def test_user_kernel_by_module_path():
    exp = parse_spec(GOOD.replace('kernel = "anderson_trajectory"', 'kernel = "module:kernels.front.anderson_trajectory"'))
    # the kernel's identity is its declared NAME however the spec names it: the same points, keys and hash
    registered = parse_spec(GOOD)
    assert exp.kernel.name == "anderson_trajectory" and len(exp.points) == 2
    assert [p.key for p in exp.points] == [p.key for p in registered.points]
    assert exp.results_hash() == registered.results_hash()
    with pytest.raises(SpecError, match="importable module"):
        parse_spec(GOOD.replace('kernel = "anderson_trajectory"', 'kernel = "module:no.such.module"'))
    with pytest.raises(SpecError, match="lacks Params, sample"):
        parse_spec(GOOD.replace('kernel = "anderson_trajectory"', 'kernel = "module:kernels._params"'))


ZIP_SPEC = """
kernel = "xxz_bubble"
seed = 1
realizations = {realizations}
batch_size = 5
[sweep]
W = [1.0, 2.0]
[sweep.zip]
L = [8, 10, 10, 12]
n_goe = {n_goe}
"""


def test_zip_links_parameters_and_crosses_them_with_the_sweep():
    exp = parse_spec(ZIP_SPEC.format(realizations='{ by = "L", values = [30, 20, 10, 30] }', n_goe="[4, 4, 0, 0]"))
    got = [(p.params.W, p.params.L, p.params.n_goe, p.realizations) for p in exp.points]
    assert got == [(W, L, n, r) for W in (1.0, 2.0) for L, n, r in [(8, 4, 30), (10, 4, 20), (10, 0, 10), (12, 0, 30)]]
    assert exp.to_dict()["zip"] == {"L": [8, 10, 10, 12], "n_goe": [4, 4, 0, 0]}


@pytest.mark.parametrize(
    "realizations,n_goe,field",
    [
        ("10", "[4, 4, 0]", "sweep.zip.n_goe"),  # unequal lengths
        ("10", "[4, 0, 0, 0]", "sweep.zip"),  # rows (10, 0) repeated
        ('{ by = "L", values = [30, 20] }', "[4, 4, 0, 0]", "realizations.values"),
        ("10", "[4, 4, 0, 7]", "params.beta (default)"),  # n_goe = 7 has no paper beta: set one
    ],
)
def test_zip_errors_name_the_field(realizations, n_goe, field):
    with pytest.raises(SpecError) as e:
        parse_spec(ZIP_SPEC.format(realizations=realizations, n_goe=n_goe))
    assert e.value.field == field or str(e.value).startswith(field)


def test_zip_parameter_cannot_also_be_swept():
    text = ZIP_SPEC.format(realizations="10", n_goe="[4, 4, 0, 0]").replace("W = [1.0, 2.0]", "L = [6]")
    with pytest.raises(SpecError, match="sweep.zip.L"):
        parse_spec(text)
