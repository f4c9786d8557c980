"""Run directories that already exist: their experiment (from the spec they were made with), tables and figures.

:class:`ensemble.api.Run` (``ensemble.open_run``) puts these together for users.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from .errors import RunDirectoryError
from .spec import Experiment, load_spec

__all__ = ["axis_columns", "load_run", "manifest", "read_tables", "write_figures"]


def load_run(path: str | Path) -> Experiment:
    """The experiment of the run directory ``path``, its kernel and model resolved from the spec it was made with."""
    path = Path(path)
    doc = manifest(path)
    exp = load_spec(path / "spec.toml")
    name = doc.get("spec", {}).get("name")
    if name:  # the spec file's own name was the run's, not "spec"
        exp = dataclasses.replace(exp, name=name)
    model = doc.get("spec", {}).get("model")
    if model is not None and model != exp.model.name:
        raise RunDirectoryError(f"{path}: run.json names the {model} analysis, its spec the {exp.model.name} analysis")
    return _with_recorded_blocks(exp, doc)


def manifest(path: Path) -> dict:
    """The run's run.json; RunDirectoryError if ``path`` is not a run directory."""
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


def axis_columns(summary: pd.DataFrame) -> list[str]:
    """The summary's axis columns (t, site, ...), between ``observable`` and ``n``."""
    cols = list(summary.columns)
    return cols[cols.index("observable") + 1 : cols.index("n")]
