"""The tables of every example spec, shrunk to a few realizations, are bit-identical to those recorded in
tests/fixtures/example_tables.json: a move of code (issue 34's house) or a change that should not touch the
numbers cannot change one bit of any table unnoticed.

Each spec is shrunk the same way every time (:func:`shrunk`): 4 realizations in blocks of 2, no precision goal,
and, where that is still expensive, only its cheapest point. The cheap ones run in CI; the rest are ``slow``.
Record anew (only for a change that is meant to change numbers, said in its commit) with
``ENSEMBLE_RECORD_TABLES=1 python3 -m pytest tests/test_example_tables.py -m "slow or not slow"``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "example_tables.json"
#: Specs whose shrunk run takes more than this (estimated CPU seconds) keep only their cheapest point.
MAX_SECONDS = 100.0
#: Specs left out: four realizations of their cheapest point take longer than a test may (10 minutes here for
#: fig5_rmt_bprime's 2^14 states; hours at paper scale).
LEFT_OUT = {"fig5_rmt_bprime", "large_L_xxz", "paper_scale_boson_tebd", "paper_scale_bubble", "paper_scale_xxz"}
#: Specs run in CI (the rest are marked slow): a few seconds each.
FAST = {"fig2_chains", "fig3_single_spin_rmt", "fig4a_anderson", "fig4a_anderson_paper", "ergodic_grain"}  # fmt: skip
# (slow for CI time: fig5_rmt, whose kernel fig3_single_spin_rmt runs; fig8_bubble_ngoe, 38 s, whose kernel
# ergodic_grain runs with disorder profiles; fig4a_anderson_exact, 32 s)

SPECS = sorted(p.stem for p in (ROOT / "examples").glob("*.toml") if p.stem not in LEFT_OUT)


def shrunk(name: str):
    """The example spec ``name`` shrunk as the module docstring says, as an Experiment."""
    import dataclasses

    import tomlkit

    import ensemble

    doc = tomlkit.parse((ROOT / "examples" / f"{name}.toml").read_text())
    doc["realizations"] = 4
    doc["block_size"] = 2
    for key in ("batch_size", "precision"):
        doc.pop(key, None)
    exp = ensemble.parse_spec(tomlkit.dumps(doc), name=name)
    from ensemble.running.cost import estimates

    cost = [e.seconds for e in estimates(exp)]
    if sum(cost) * 4 > MAX_SECONDS:
        cheapest = exp.points[int(np.argmin(cost))]
        exp = dataclasses.replace(exp, points=(cheapest,))
    return exp


def table_digest(tables) -> dict[str, str]:
    """sha256 of every table's columns and values, floats by their bits (NaN included), row order kept."""
    out = {}
    for name, df in sorted(tables.items()):
        if not len(df.columns):
            continue
        h = hashlib.sha256()
        for col in df.columns:
            h.update(col.encode() + b"\0")
            values = df[col].to_numpy()
            if values.dtype.kind == "f":
                h.update(np.ascontiguousarray(values, dtype=np.float64).view(np.uint64).tobytes())
            else:
                h.update("\x1f".join("<NA>" if v is None or v is np.nan or (isinstance(v, float) and v != v)
                                     else repr(v) for v in values.tolist()).encode())  # fmt: skip
        out[name] = h.hexdigest()
    return out


def _recorded() -> dict:
    return json.loads(FIXTURE.read_text()) if FIXTURE.exists() else {}


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in FAST else pytest.mark.slow) for n in SPECS])
def test_example_tables_are_bit_identical_to_the_recorded_ones(name):
    from ensemble import MemoryStore, execute

    exp = shrunk(name)
    digest = table_digest(execute(exp, MemoryStore()).tables)
    if os.environ.get("ENSEMBLE_RECORD_TABLES"):
        recorded = _recorded()
        recorded[name] = {"points": [p.label for p in exp.points], "tables": digest}
        FIXTURE.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
        return
    want = _recorded().get(name)
    assert want is not None, f"{name}: no recorded tables (record them: see the module docstring)"
    assert want["points"] == [p.label for p in exp.points]
    assert digest == want["tables"]


def test_the_digest_sees_one_bit():
    """The negative control: one ulp in one value changes the digest."""
    import pandas as pd

    a = pd.DataFrame({"x": [1.0, 2.0], "s": ["a", "b"]})
    b = a.copy()
    b.loc[1, "x"] = np.nextafter(2.0, 3.0)
    assert table_digest({"t": a}) != table_digest({"t": b})
    assert table_digest({"t": a}) == table_digest({"t": a.copy()})
