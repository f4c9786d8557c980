"""Run directories that already exist: their experiment (from the spec they were made with) and tables.

:class:`ensemble.api.Run` (``ensemble.open_run``) puts these together for users.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    import pandas as pd

from ensemble.errors import EnsembleError, RunDirectoryError
from ensemble.store.layout import Layout, block_sizes, read_record, recorded_fingerprints, recorded_spec
from ensemble.spec.experiment import Experiment, parse_spec, with_block_sizes, with_recorded_kernel, with_recorded_times

__all__ = ["as_tabled", "axis_columns", "keep_refit", "load_run", "manifest", "read_tables"]


def load_run(path: str | Path) -> Experiment:
    """The experiment of the run directory ``path``: the spec it recorded (kernel and model resolved from it),
    with each point's block size as the run recorded it (the layout its partials have)."""
    path = Path(path)
    doc = read_record(path)
    exp = parse_spec(recorded_spec(path, doc), name=doc.get("spec", {}).get("name") or path.name, recorded=True)
    name = doc.get("spec", {}).get("name")
    if name:  # the spec file's own name was the run's, not "spec"
        exp = dataclasses.replace(exp, name=name)
    model = doc.get("spec", {}).get("model")
    if model is not None and model != exp.model.name:
        raise RunDirectoryError(f"{path}: run.json names the {model} analysis, its spec the {exp.model.name} analysis")
    exp = with_recorded_kernel(exp, doc.get("spec", {}).get("kernel"))
    recorded = block_sizes(doc)
    exp = with_block_sizes(exp, recorded) if recorded else exp
    exp = with_recorded_times(exp, recorded_fingerprints(doc))
    refine = doc.get("refine")
    if refine and exp.refine is not None and exp.scaling is not None:  # a refined sweep: its values and realizations
        from ensemble.spec.experiment import with_control_values
        from ensemble.spec.goals import with_realizations

        exp = with_control_values(exp, exp.scaling.control, refine.get("values", exp.sweep[exp.scaling.control]))
        exp = with_block_sizes(exp, recorded) if recorded else exp
        exp = with_realizations(exp, {int(k, 16): v for k, v in (refine.get("points") or {}).items()})
    reached = (doc.get("precision") or {}).get("points")
    if reached and exp.precision is not None:  # a run to a precision goal: the realizations each point reached
        from ensemble.spec.goals import with_realizations

        exp = with_realizations(exp, {int(k, 16): v["realizations"] for k, v in reached.items()})
    return exp


def as_tabled(path: str | Path, exp: Experiment) -> Experiment:
    """``exp`` with the [fit] settings the run's tables were last computed with (tables/manifest.json), which a
    refit may have changed from the spec's: figures and reports drawn from those tables must use them."""
    import json

    try:
        recorded = json.loads(Layout(path).table_record("manifest").read_text()).get("fit")
    except (OSError, ValueError):
        return exp
    return with_recorded_fit(exp, recorded)


def with_recorded_fit(exp: Experiment, recorded: dict | None) -> Experiment:
    """``exp`` with recorded [fit] settings (a manifest's or a driver's); the spec's if none, or if they are
    settings of another version of the model."""
    from ensemble.spec.experiment import with_fit

    if not recorded:
        return exp
    try:
        return with_fit(exp, {}, {k: v for k, v in recorded.items() if v is not None})
    except EnsembleError:
        return exp


def keep_refit(path: str | Path, exp: Experiment, previous, note=None) -> Experiment:
    """``exp``, the spec a run in ``path`` resumes or grows with, keeping the [fit] settings its tables were last
    computed with (a refit's, tables/manifest.json) when the spec's own [fit] is the run's (``previous``, the fit
    of the spec the run recorded): a refit's settings stand until the spec's [fit] is changed or the run is refit
    with ``--from-spec``. A spec with another [fit] is taken as asked, and ``note`` says so."""
    from ensemble.spec.settings import to_dict

    tabled = as_tabled(path, exp)
    if tabled.fit == exp.fit:
        return exp
    ours, theirs = to_dict(exp.fit), to_dict(tabled.fit)
    changed = ", ".join(f"{k} = {theirs[k]!r} (spec: {ours[k]!r})" for k in ours if ours[k] != theirs.get(k))
    if exp.fit == previous:
        if note is not None:
            note(f"{path}: [fit] settings of the last refit kept: {changed}; ensemble fit {path} --from-spec "
                 "for the spec's own")  # fmt: skip
        return tabled
    if note is not None:
        note(f"{path}: [fit] settings from this spec, which changes the run's [fit]; the last refit's are not "
             f"kept: {changed}")  # fmt: skip
    return exp


def manifest(path: Path) -> dict:
    """The run's record (run.json), verified; RunDirectoryError if ``path`` is not a run directory or it is damaged."""
    return read_record(path)


def read_tables(path: str | Path) -> dict[str, pd.DataFrame]:
    """Every table of a run directory by name; RunDirectoryError if there is none yet."""
    layout = Layout(path)
    files = layout.table_files()
    if not files:
        raise RunDirectoryError(f"{path} has no tables (expected {layout.table('summary')}): finish the run, or, if it "
                                f"has finished, rebuild them from its partials with ensemble fit {path}")  # fmt: skip
    import pandas as pd

    return {f.stem: pd.read_parquet(f) for f in files}


def axis_columns(summary: pd.DataFrame) -> list[str]:
    """The summary's axis columns (t, site, ...), between ``observable`` and ``n``."""
    cols = list(summary.columns)
    return cols[cols.index("observable") + 1 : cols.index("n")]
