"""Run directories that already exist: their experiment, tables, figures and progress, as one object.

    >>> import ensemble
    >>> r = ensemble.open_run("runs/fig4a")
    >>> r.fits.query("fit == 'front'")[["W", "invA", "invA_err"]]
    >>> h = r.to_xarray("h")          # mean and sem of h over (W, t)
    >>> r.figures()["fig4_front"]      # a matplotlib Figure
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from .errors import RunDirectoryError
from .spec import Experiment, load_spec

__all__ = ["Run", "load_run", "open_run", "read_tables", "write_figures"]


def load_run(path: str | Path) -> Experiment:
    """The experiment of the run directory ``path``, its kernel and model resolved from the spec it was made with."""
    path = Path(path)
    doc = _manifest(path)
    exp = load_spec(path / "spec.toml")
    name = doc.get("spec", {}).get("name")
    if name:  # the spec file's own name was the run's, not "spec"
        exp = dataclasses.replace(exp, name=name)
    model = doc.get("spec", {}).get("model")
    if model is not None and model != exp.model.name:
        raise RunDirectoryError(f"{path}: run.json names the {model} analysis, its spec the {exp.model.name} analysis")
    return _with_recorded_blocks(exp, doc)


def _manifest(path: Path) -> dict:
    manifest = path / "run.json"
    if not manifest.is_file():
        raise RunDirectoryError(f"{path} is not a run directory (no run.json)")
    try:
        return json.loads(manifest.read_text())
    except (OSError, ValueError) as e:
        raise RunDirectoryError(f"{manifest} is not readable JSON ({e}); the run directory is damaged") from None


def _with_recorded_blocks(exp: Experiment, doc: dict) -> Experiment:
    """``exp`` with each point's block size as the run recorded it (the layout its partials have)."""
    from .spec import with_block_sizes

    recorded = {int(p["key"], 16): p["block_size"] for p in doc.get("points", []) if "block_size" in p}
    return with_block_sizes(exp, recorded) if recorded else exp


def read_tables(path: str | Path) -> dict[str, pd.DataFrame]:
    """Every table of a run directory by name; RunDirectoryError if there is none yet."""
    tables = Path(path) / "tables"
    files = sorted(tables.glob("*.parquet")) if tables.is_dir() else []
    if not files:
        raise RunDirectoryError(f"{path} has no tables yet (expected {tables}/summary.parquet); finish the run first")
    return {f.stem: pd.read_parquet(f) for f in files}


def write_figures(path: str | Path) -> list[Path]:
    """Draw the run's figures with its model and write them to ``path/plots``; return the files."""
    import matplotlib

    matplotlib.use("Agg")
    from .display import save_figures
    from .store import RunLock

    exp = load_run(path)
    with RunLock(path):  # no refit or resume rewrites the tables while they are drawn
        return save_figures(exp.model.figures(exp, read_tables(path)), Path(path) / "plots")


def open_run(path: str | Path) -> Run:
    """The run in directory ``path`` (finished or not), for reading from Python."""
    return Run(path)


class Run:
    """A run directory: its spec, points, provenance, tables, figures and progress.

    Tables are read when first asked for and cached; :meth:`reload` forgets them
    (after a refit or a resume in another process).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._doc = _manifest(self.path)
        self.spec: Experiment = load_run(self.path)
        self._tables: dict[str, pd.DataFrame] | None = None

    def __repr__(self) -> str:
        s = self.spec
        return (f"Run({str(self.path)!r}: {s.kernel.name}, {s.model.name} analysis, {len(s.points)} point(s), "
                f"{s.total_realizations} realizations)")  # fmt: skip

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def points(self) -> pd.DataFrame:
        """One row per point: index, seeding key, swept values, realizations, blocks and block size."""
        rows = [{"point": p.index, "key": f"{p.key:016x}", **p.swept, "realizations": p.realizations,
                 "blocks": p.n_blocks, "block_size": p.block_size} for p in self.spec.points]  # fmt: skip
        return pd.DataFrame(rows)

    @property
    def provenance(self) -> dict:
        """Where the run came from: versions, git revision, host, command, creation time, and the tables' record."""
        keys = ("environment", "created", "command", "history")
        out = {k: self._doc.get(k) for k in keys if k in self._doc}
        manifest = self.path / "tables" / "manifest.json"
        if manifest.exists():
            out["tables"] = json.loads(manifest.read_text())
        return out

    # -- tables ------------------------------------------------------------------
    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        if self._tables is None:
            self._tables = read_tables(self.path)
        return self._tables

    @property
    def summary(self) -> pd.DataFrame:
        return self.tables["summary"]

    @property
    def fits(self) -> pd.DataFrame:
        return self.tables.get("fits", pd.DataFrame())

    def reload(self) -> Run:
        """Forget cached tables (and re-read the spec and record), e.g. after ``ensemble fit`` elsewhere."""
        self.__init__(self.path)
        return self

    def query(self, sql: str, writable: bool = False) -> pd.DataFrame:
        """SQL (DuckDB) on this run's tables, one view per table; read-only unless ``writable``."""
        from .query import query

        return query(self.path, sql, writable=writable)

    def to_xarray(self, observable: str):
        """The observable as an ``xarray.Dataset`` of ``mean``, ``sem`` and ``n`` over the swept parameters and
        its own axes (t, site, ...); the fixed parameters go to ``attrs``.

        Zipped parameters become separate dimensions; combinations the sweep did not run are NaN.
        """
        s = self.summary
        rows = s[s["observable"] == observable]
        if rows.empty:
            known = ", ".join(sorted(set(s["observable"])))
            raise KeyError(f"no observable {observable!r} in {self.path}; the summary has: {known}")
        axes = [c for c in _axis_columns(s) if rows[c].notna().any()]
        dims = self.spec.swept_names + axes
        data = rows[dims + ["mean", "sem", "n"]]
        ds = data.set_index(dims).to_xarray() if dims else data.iloc[0].to_frame().T.reset_index(drop=True).to_xarray()
        fixed = {k: v for k, v in rows.iloc[0].items() if k in self.spec.params_names and k not in dims}
        ds.attrs.update(observable=observable, run=self.name, estimator=str(rows["estimator"].iloc[0]),
                        **{k: v.item() if hasattr(v, "item") else v for k, v in fixed.items()})  # fmt: skip
        return ds

    def figures(self) -> dict:
        """The model's figures of this run, as matplotlib Figures by name (nothing is written)."""
        return self.spec.model.figures(self.spec, self.tables)

    def status(self):
        """Progress (done/total per point, rate, ETA) and provisional tables from the blocks finished so far."""
        from .status import status

        return status(self.path)


def _axis_columns(summary: pd.DataFrame) -> list[str]:
    cols = list(summary.columns)
    return cols[cols.index("observable") + 1 : cols.index("n")]
