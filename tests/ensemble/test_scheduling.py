"""Tasks sized from the cost model (issue 24): whole blocks, at most [scheduling] task_seconds of CPU each, at least
tasks_per_worker per worker where the blocks allow; batching never changes results."""

from __future__ import annotations

import pytest

from ensemble import MemoryStore, execute, parse_spec
from ensemble.running.scheduling import schedule
from tests.helpers import assert_tables_identical, run_cli, small_spec

ONE_POINT = """
kernel = "anderson_trajectory"
seed = 3
realizations = 400
[params]
L = 60
W = 4.0
[times]
start = 1.0
stop = 1000.0
num = 16
"""


def auto(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("batch_size"))


def test_tasks_fit_the_target_and_give_every_worker_several():
    exp = parse_spec(ONE_POINT)  # 100 blocks of 4 realizations, ~0.04 s each: all of it fits one 60 s task
    one = schedule(exp, 1, [0.04])
    assert one.tasks == 4 and one.automatic  # the 4 tasks a single worker gets at least
    two = schedule(exp, 2, [0.04])
    assert two.tasks == 8 and set(two.blocks_per_task.values()) == {13}  # 8 tasks of 13 blocks (the last of 9), as even
    # as whole blocks allow
    many = schedule(exp, 1000, [0.04])
    assert many.tasks == 100 and set(many.blocks_per_task.values()) == {1}  # as many as there are blocks
    slow = schedule(exp, 2, [30.0])  # 120 s per block: a task is one block (whole blocks), however long
    assert slow.tasks == 100 and set(slow.task_seconds.values()) == {120.0}
    mid = schedule(exp, 1, [1.0])  # 4 s per block: 15 blocks in 60 s (7 tasks, more than the 4 one worker needs)
    assert set(mid.blocks_per_task.values()) == {15} and max(mid.task_seconds.values()) <= 60.0
    assert two.wall_seconds == pytest.approx(4 * 13 * 4 * 0.04, rel=1e-9)  # 4 tasks of 13 blocks on the busier worker


def test_the_settings_and_an_explicit_batch_size():
    exp = parse_spec(ONE_POINT + "[scheduling]\ntask_seconds = 2.0\ntasks_per_worker = 1\n")
    assert set(schedule(exp, 1, [0.04]).blocks_per_task.values()) == {12}  # 2 s / (4 x 0.04 s)
    fixed = parse_spec(ONE_POINT.replace("realizations = 400", "realizations = 400\nbatch_size = 100"))
    s = schedule(fixed, 2, [0.04])
    assert not s.automatic and s.tasks == 4 and set(s.blocks_per_task.values()) == {25}
    with pytest.raises(Exception, match="scheduling.task_seconds"):
        parse_spec(ONE_POINT + "[scheduling]\ntask_seconds = -1\n")
    with pytest.raises(Exception, match="scheduling.tasks"):
        parse_spec(ONE_POINT + "[scheduling]\ntasks = 3\n")


@pytest.mark.cluster
def test_batching_never_changes_results(local_executor):
    """The automatic default against explicit batch sizes of 1, 3 and a whole point, serially and on 2 workers."""
    reference = execute(parse_spec(auto(small_spec())), MemoryStore()).tables
    for batch in (1, 3, 24):
        assert_tables_identical(execute(parse_spec(small_spec(batch_size=batch)), MemoryStore()).tables, reference)
    result = execute(parse_spec(auto(small_spec())), MemoryStore(), local_executor)
    assert result.tasks_run >= 8  # 2 workers x 4
    assert_tables_identical(result.tables, reference)


def test_validate_prints_tasks_their_length_and_the_parallel_wall(tmp_path):
    spec = tmp_path / "one.toml"
    spec.write_text(ONE_POINT)
    res = run_cli("validate", spec, "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert "tasks: 8 of ~" in res.stdout and "sized automatically" in res.stdout
    assert "parallel wall estimate" in res.stdout and "on 2 worker(s) of the processes executor" in res.stdout
