"""``ensemble.submit``: a run that does not block its caller, with status, wait, cancel (resumable) and result.

Runs are held at a gate (:mod:`tests.ensemble.gated_kernel`), so what each step sees is decided by counting
realizations, not by how fast the machine is.
"""

from __future__ import annotations

import pytest

import ensemble
from ensemble.errors import Cancelled, SpecError
from ensemble.store.lock import holder_of
from tests.ensemble.gated_kernel import SPEC, Gate
from tests.helpers import HANG_GUARD, assert_tables_identical, partials, wait_until


def _spec(gate, n=6, seed=3) -> str:
    return SPEC.format(gate=gate.path, n=n, seed=seed)


def test_submit_returns_at_once_and_its_result_is_the_blocking_runs(tmp_path):
    gate = Gate(tmp_path / "gate").create(allow=0)  # nothing may run: submit must return anyway
    sub = ensemble.submit(_spec(gate), out=tmp_path / "bg", executor="serial")
    try:
        assert sub.running() and not sub.done()
        assert not sub.wait(timeout=HANG_GUARD / 1000)  # still held at the gate: waiting ends at the timeout
        assert "running" in repr(sub) and len(repr(sub).splitlines()) == 1
        assert "<table>" in sub._repr_html_()
        st = sub.status()
        assert st.done == 0 and st.total == 12
        gate.open(5)
        wait_until(lambda: len(partials(tmp_path / "bg")) == 5, "five blocks to finish")
        assert sub.status().done == 5
        gate.release()
        got = sub.result(timeout=HANG_GUARD)
    finally:
        gate.release()
        sub.cancel(timeout=HANG_GUARD)
    assert sub.done() and not sub.cancelled() and "finished" in repr(sub)
    want = ensemble.run(_spec(gate), out=tmp_path / "fg", executor="serial")  # the gate is open now
    assert_tables_identical(got.tables, want.tables)


def test_a_bad_spec_is_refused_by_submit_itself_and_nothing_is_written(tmp_path):
    gate = Gate(tmp_path / "gate").create(allow=0)
    with pytest.raises(SpecError, match="realizations"):
        ensemble.submit(_spec(gate).replace("realizations = 6", "realizations = -6"), out=tmp_path / "bad",
                        executor="serial")  # fmt: skip
    assert not (tmp_path / "bad").exists()


def test_cancel_on_a_local_cluster_stops_at_once_keeps_blocks_and_resumes_to_the_same_tables(tmp_path):
    gate = Gate(tmp_path / "gate").create(allow=4)
    out = tmp_path / "run"
    sub = ensemble.submit(_spec(gate, n=10), out=out, executor="local", workers=2)
    try:
        wait_until(lambda: len(partials(out)) == 4, "four blocks to finish")
        wait_until(lambda: gate.taken() >= 6, "both workers to wait at the gate")  # tasks in flight, held
        assert sub.cancel(timeout=HANG_GUARD)  # returns though the tasks in flight never end by themselves
    finally:
        if not sub.done():
            gate.release()
            sub.cancel(timeout=HANG_GUARD)
    assert sub.cancelled() and "resumable" in repr(sub)
    with pytest.raises(Cancelled, match="finished block is kept"):
        sub.result(timeout=HANG_GUARD)  # ended already
    assert len(partials(out)) == 4 and holder_of(out) is None
    gate.release()
    again = ensemble.submit(_spec(gate, n=10), out=out, executor="serial", resume=True).result(timeout=HANG_GUARD)
    want = ensemble.run(_spec(gate, n=10), out=tmp_path / "ref", executor="serial")
    assert_tables_identical(again.tables, want.tables)
