"""Run directories that already exist: their experiment (from the spec they were made with) and their tables."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .errors import RunDirectoryError
from .spec import Experiment, load_spec

__all__ = ["load_run", "read_tables", "write_figures"]


def load_run(path: str | Path) -> Experiment:
    """The experiment of the run directory ``path``, its kernel and model resolved from the spec it was made with."""
    path = Path(path)
    manifest = path / "run.json"
    if not manifest.is_file():
        raise RunDirectoryError(f"{path} is not a run directory (no run.json)")
    try:
        doc = json.loads(manifest.read_text())
    except (OSError, ValueError) as e:
        raise RunDirectoryError(f"{manifest} is not readable JSON ({e}); the run directory is damaged") from None
    exp = load_spec(path / "spec.toml")
    model = doc.get("spec", {}).get("model")
    if model is not None and model != exp.model.name:
        raise RunDirectoryError(f"{path}: run.json names the {model} analysis, its spec the {exp.model.name} analysis")
    return exp


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
