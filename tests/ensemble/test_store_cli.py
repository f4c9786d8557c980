"""Store backends share one interface; Parquet round trip; the CLI's query, fit, plot and report."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ensemble import DirectoryStore, MemoryStore, open_run_dir, parse_spec, execute
from ensemble.store.query import query
from tests.helpers import HANG_GUARD, assert_tables_identical, read_tables, run_cli, small_spec

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """One real CLI run (serial) into a run directory."""
    d = tmp_path_factory.mktemp("cli")
    spec = d / "small.toml"
    spec.write_text(small_spec())
    res = run_cli("run", spec, "--out", d / "run", "--executor", "serial", "--no-progress")
    assert res.returncode == 0, res.stderr
    return d / "run", res


@pytest.mark.parametrize("backend", ["memory", "directory"])
def test_both_stores_give_the_same_tables(backend, tmp_path):
    exp = parse_spec(small_spec())
    store = MemoryStore() if backend == "memory" else open_run_dir(tmp_path / "run", exp, resume=False)
    tables = execute(exp, store).tables
    reference = execute(exp, MemoryStore()).tables
    assert_tables_identical(tables, reference)
    # what the store returns is what was put, for both backends (Parquet round trip for the directory)
    assert_tables_identical({name: store.table(name) for name in tables}, reference)


def test_run_directory_records_spec_environment_and_points(cli_run):
    run_dir, _ = cli_run
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["spec"]["kernel"] == "anderson_trajectory" and manifest["spec"]["seed"] == 99
    assert [p["swept"] for p in manifest["points"]] == [{"W": 2.0}, {"W": 6.0}]
    versions = manifest["environment"]["versions"]
    assert versions["numpy"] and versions["numba"] and versions["dask"]
    assert "revision" in (manifest["environment"]["git"] or {"revision": None})
    assert (run_dir / "spec.toml").read_text() == small_spec()


def test_cli_report_says_where_tables_are_and_how_to_query(cli_run):
    run_dir, res = cli_run
    out = res.stdout
    assert "ran 48 realizations" in out
    assert str(run_dir / "tables") in out and "ensemble query" in out
    assert "2 ln 4 = 2.773" in out
    fits = pd.read_parquet(run_dir / "tables" / "fits.parquet")
    for invA in fits[fits.fit == "front"].invA:
        assert f"{invA:.3f}" in out


def test_parquet_tables_read_with_pandas_pyarrow_and_duckdb(cli_run):
    import pyarrow.parquet as pq

    run_dir, _ = cli_run
    path = run_dir / "tables" / "summary.parquet"
    a = pd.read_parquet(path)
    b = pq.read_table(path).to_pandas()
    c = duckdb.sql(f"SELECT * FROM read_parquet('{path}')").df()
    assert len(a) == len(b) == len(c) > 0
    assert a["mean"].sum() == pytest.approx(c["mean"].sum(), rel=1e-12)


def test_cli_query_selects_imbalance_at_one_W(cli_run):
    run_dir, _ = cli_run
    sql = "SELECT t, mean, sem FROM summary WHERE observable = 'Ig' AND W = 6 ORDER BY t"
    res = run_cli("query", run_dir, sql, "--csv")
    assert res.returncode == 0, res.stderr
    got = pd.read_csv(io.StringIO(res.stdout))
    s = read_tables(run_dir)["summary"]
    want = s[(s.observable == "Ig") & (s.W == 6.0)].sort_values("t")
    assert len(got) == 12
    pd.testing.assert_series_equal(got["mean"], want["mean"].reset_index(drop=True), check_exact=False, rtol=1e-15)
    assert query(run_dir, "SELECT count(*) AS n FROM fits WHERE fit = 'front'")["n"][0] == 2


def test_cli_query_reports_bad_sql_clearly(cli_run):
    run_dir, _ = cli_run
    res = run_cli("query", run_dir, "SELECT nope FROM summary")
    assert res.returncode == 2 and "nope" in res.stderr and "Traceback" not in res.stderr


def test_cli_fit_recomputes_from_partials_with_a_user_window(cli_run, tmp_path):
    run_dir, _ = cli_run
    before = read_tables(run_dir)
    res = run_cli("fit", run_dir, "--window", "2.0", "40.0")
    assert res.returncode == 0, res.stderr
    fits = pd.read_parquet(run_dir / "tables" / "fits.parquet")
    fits = fits[fits.fit == "front"]
    assert set(fits.window_source) == {"user"} and fits.t_start.min() >= 2.0 and fits.t_stop.max() == 40.0
    refit = read_tables(run_dir)
    manifest = json.loads((run_dir / "tables" / "manifest.json").read_text())
    assert manifest["fit"]["window"] == [2.0, 40.0] and manifest["origin"].startswith("ensemble fit")
    res = run_cli("fit", run_dir)  # keeps the settings the tables were last computed with, and says so
    assert res.returncode == 0, res.stderr
    assert "as the tables were last computed" in res.stdout
    assert_tables_identical(read_tables(run_dir), refit)
    res = run_cli("fit", run_dir, "--from-spec")  # back to the spec's own settings: same tables as the run made
    assert res.returncode == 0, res.stderr
    assert_tables_identical(read_tables(run_dir), before)
    bad = run_cli("fit", run_dir, "--window", "1000", "2000")
    assert bad.returncode == 2 and "fit.window" in bad.stderr


@pytest.mark.slow  # CI time (< 30 min): siblings cover the path in CI; -m slow runs it
def test_cli_plot_writes_figures(cli_run):
    run_dir, _ = cli_run
    res = run_cli("plot", run_dir)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (run_dir / "plots").iterdir()) == ["fig2_imbalance.caption.txt", "fig2_imbalance.png",
                                                                      "fig4_front.caption.txt", "fig4_front.png"]  # fmt: skip
    for name in ("fig2_imbalance.png", "fig4_front.png"):
        path = run_dir / "plots" / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    res = run_cli("plot", run_dir, "--format", "pdf,svg", "--size", "single")
    assert res.returncode == 0, res.stderr
    assert (run_dir / "plots" / "fig4_front.pdf").read_bytes()[:5] == b"%PDF-"
    assert "<svg" in (run_dir / "plots" / "fig4_front.svg").read_text()
    bad = run_cli("plot", run_dir, "--format", "jpeg")
    assert bad.returncode == 2 and "format = 'jpeg'" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_refuses_to_overwrite_a_run(cli_run):
    run_dir, _ = cli_run
    res = run_cli("run", run_dir / "spec.toml", "--out", run_dir, "--executor", "serial")
    assert res.returncode == 2 and "--resume" in res.stderr


def test_cli_kernels_lists_the_kernel():
    res = run_cli("kernels")
    assert res.returncode == 0 and "anderson_trajectory" in res.stdout and "gamma" in res.stdout


def test_directory_store_refuses_foreign_directory(tmp_path):
    from ensemble import RunDirectoryError

    (tmp_path / "x.txt").write_text("not a run")
    with pytest.raises(RunDirectoryError, match="not a run directory"):
        open_run_dir(tmp_path, parse_spec(small_spec()), resume=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]
    assert isinstance(DirectoryStore(tmp_path).done_blocks(parse_spec(small_spec())), dict)


def test_cli_shows_a_progress_bar_with_rate_and_eta(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(small_spec())
    res = run_cli("run", spec, "--out", tmp_path / "run", "--executor", "serial")
    assert res.returncode == 0, res.stderr
    bar = res.stderr.splitlines()[-1]
    assert "48/48" in bar and "real/s" in bar and "100%" in bar and "batches 6/6" in bar
    assert "<" in bar  # tqdm's [elapsed<remaining] ETA field


def test_progress_in_a_log_is_a_line_every_so_many_seconds_not_every_redraw(tmp_path):
    """stderr a pipe, as in a batch job's log: 8 tasks of 0.15 s each would be ~9 redraws of a terminal bar
    (each a carriage return a log keeps); here the start and the end, a line each."""
    from tests.ensemble.gated_kernel import SPEC as GATED_SPEC

    spec = tmp_path / "slow.toml"
    spec.write_text(GATED_SPEC.format(seed=1, n=4, gate="").replace('gate = ""', 'gate = ""\ndelay = 0.15'))
    res = subprocess.run([sys.executable, "-m", "ensemble", "run", str(spec), "--out", str(tmp_path / "run"),
                          "--executor", "serial"], capture_output=True, cwd=ROOT)  # bytes: carriage returns kept
    assert res.returncode == 0, res.stderr
    assert b"\r" not in res.stderr
    reports = [ln for ln in res.stderr.decode().splitlines() if "%|" in ln]
    assert len(reports) == 2 and "100%" in reports[-1] and "8/8" in reports[-1], reports


def test_plot_writes_all_four_figures_for_an_L_W_sweep(tmp_path):
    from ensemble.present.figures import write_figures

    spec = small_spec(L=8, stop=200.0).replace("W = [2.0, 6.0]", "W = [1.0, 3.0]\nL = [6, 8]").replace("L = 8\n", "", 1)
    exp = parse_spec(spec.replace("kernel = \"anderson_trajectory\"", "kernel = \"xxz_trajectory\""))
    execute(exp, open_run_dir(tmp_path / "run", exp, resume=False))
    names = sorted(p.name for p in write_figures(tmp_path / "run"))
    assert names == ["fig2_imbalance.png", "fig3_threshold_time.png", "fig4_front.png", "fig5_L_Ir.png"]


@pytest.mark.slow  # CI time (< 30 min): siblings cover the path in CI; -m slow runs it
def test_report_and_plots_handle_a_string_parameter_sweep(tmp_path):
    """Sweeping unraveling (a string) alongside L and W: one Eq. (9) fit per unraveling, labelled, and all figures."""
    spec = tmp_path / "s.toml"
    spec.write_text(
        small_spec(L=6, stop=200.0).replace("W = [2.0, 6.0]", 'W = [1.0, 3.0]\nL = [4, 6]\nunraveling = ["kicks", "jumps"]').replace("L = 6\n", "", 1)
    )
    res = run_cli("run", spec, "--out", tmp_path / "run", "--executor", "serial", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "(unraveling = jumps) over 4 points" in res.stdout and "(unraveling = kicks) over 4 points" in res.stdout
    assert "unraveling = 'jumps'" in res.stdout  # the suggested query quotes the string
    res = run_cli("plot", tmp_path / "run")
    assert res.returncode == 0, res.stderr
    assert sorted(p.rsplit("/", 1)[-1] for p in res.stdout.split()) == [
        "fig2_imbalance.png", "fig3_threshold_time.png", "fig4_front.png", "fig5_L_Ir.png",
    ]  # fmt: skip


def test_progress_is_weighted_by_the_kernels_cost():
    """Progress counts estimated CPU seconds: a dimension-13,728 xxz_bubble point weighs ~100x a 1008 one;
    a kernel without a cost model (a user's) is measured."""
    from ensemble import parse_spec
    from ensemble.running.cost import estimates
    from ensemble.running.runner import _cost_weights

    exp = parse_spec('kernel = "xxz_bubble"\nseed = 1\nrealizations = 2\nbatch_size = 1\n[sweep]\nL = [10, 14]\n')
    w = [_cost_weights(exp)[pt.key] for pt in exp.points]
    assert 50 < w[1] / w[0] < 1000
    from tests.ensemble.faulty_kernel import SPEC

    faulty = parse_spec(SPEC.format(extra=""))
    assert [e.source for e in estimates(faulty)] == ["measured"] and estimates(faulty)[0].seconds < 0.01


CPU = """
kernel = "module:tests.ensemble.cpu_kernel"
seed = 2
realizations = 4
[sweep]
cpu = [0.05, 0.2]
"""


def test_a_kernel_without_a_cost_model_is_measured_in_cpu_seconds():
    """A kernel spending a known CPU time per realization (0.05 s, 0.2 s): the measurement finds it within 30%
    whatever else the machine runs (CPU time, not wall time), validate says it measured, and a realization
    that never ends is stopped (negative control: its estimate is a lower bound, said so)."""
    from ensemble import parse_spec
    from ensemble.running.cost import estimates

    got = estimates(parse_spec(CPU))
    assert [e.source for e in got] == ["measured", "measured"]
    for want, e in zip((0.05, 0.2), got):
        assert 1.0 <= e.seconds / want < 1.3, (want, e.seconds)
    stuck = estimates(parse_spec(CPU.replace("[0.05, 0.2]", "[1000.0]")), budget=1.0, patience=3.0)
    assert stuck[0].source.startswith("measured (at least") and 0.0 < stuck[0].seconds < 1000.0  # a lower bound, whatever the load


def test_validate_says_where_the_cost_comes_from(tmp_path):
    spec = tmp_path / "cpu.toml"
    spec.write_text(CPU)
    res = run_cli("validate", spec, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "(measured)" in res.stdout and "measured here: the kernel declares no cost model" in res.stdout
    res = run_cli("validate", ROOT / "examples" / "fig4a_anderson.toml")
    assert "(cost model)" in res.stdout and "calibrated" in res.stdout


def test_a_notebook_executed_by_nbclient_gets_log_lines_not_a_widget(tmp_path):
    """nbclient (as nbconvert, papermill and the docs build run notebooks) sends cells with allow_stdin false:
    the progress is then the log's lines, start and end, with no carriage return and no widget output, even
    where ipywidgets is installed. A kernel asked with allow_stdin true is watched (the negative control below)."""
    nbformat = pytest.importorskip("nbformat", reason="executing a notebook needs the docs extra (in test)")
    nbclient = pytest.importorskip("nbclient", reason="executing a notebook needs the docs extra (in test)")
    from tests.ensemble.gated_kernel import SPEC as GATED_SPEC

    spec = GATED_SPEC.format(seed=1, n=4, gate="").replace('gate = ""', 'gate = ""\ndelay = 0.05')
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r})\nimport ensemble\n"
            f"run = ensemble.run({spec!r}, out={str(tmp_path / 'run')!r}, executor='serial', progress=True)\n"
            "from ensemble.running.runner import _watched\nprint('watched', _watched())")  # fmt: skip
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbclient.NotebookClient(nb, timeout=HANG_GUARD, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "watched False" in text
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    err = "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and o.name == "stderr")
    reports = [ln for ln in err.splitlines() if "%|" in ln]
    assert "\r" not in err and len(reports) == 2 and "100%" in reports[-1], err


@pytest.mark.parametrize("allow_stdin, watched", [(False, False), (True, True), (None, True)])
def test_watched_reads_the_request_of_the_cell(monkeypatch, allow_stdin, watched):
    import types

    from ensemble.running import runner

    content = {} if allow_stdin is None else {"allow_stdin": allow_stdin}
    kernel = types.SimpleNamespace(get_parent=lambda: {"content": content})
    shell = types.SimpleNamespace(kernel=kernel)
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert runner._notebook() and runner._watched() is watched
    bar = runner.progress_bar(True, total=1, file=io.StringIO())
    assert isinstance(getattr(bar.fp, "_wrapped", bar.fp), runner._Lines) is (not watched)
    bar.close()
