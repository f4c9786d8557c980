"""A run's figures on disk: drawn with its model from its tables, written to its ``plots/`` (or a directory
outside every run), and redrawn when the tables are rewritten."""

from __future__ import annotations

from pathlib import Path

__all__ = ["refresh_plots", "write_figures"]


def write_figures(path: str | Path, formats=("png",), style: str | None = None, size: str | None = None,
                  out: str | Path | None = None, overwrite: bool = False) -> list[Path]:  # fmt: skip
    """Draw the run's figures with its model and write them to ``path/plots``, or to ``out`` (a directory outside
    every run directory; files of the same names are replaced only with ``overwrite``), each format asked for
    with the caption and the spec in the files' metadata; return the files. Formats and style are checked
    before anything is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    from ensemble.present.figstyle import check_formats, check_style, draw, save
    from ensemble.store.guard import new_directory
    from ensemble.store.lock import RunLock
    from ensemble.store.layout import Layout, read_record, recorded_spec
    from ensemble.store.runs import as_tabled, load_run, read_tables

    formats = check_formats(formats)
    check_style(style)
    if out is not None:
        new_directory(out, "--out")
    exp = as_tabled(path, load_run(path))
    spec_text = recorded_spec(path, read_record(path))
    with RunLock(path):  # no refit or resume rewrites the tables while they are drawn (or the plots written)
        figures = draw(exp.model, exp, read_tables(path), style=style, size=size)
        if out is None:
            return save(figures, Layout(path).plots, formats, spec_text)
    names = [f"{n}.{f}" for n in figures for f in formats] + [f"{n}.caption.txt" for n in figures]
    try:
        new_directory(out, "--out", names=names, overwrite=overwrite)
    except BaseException:
        import matplotlib.pyplot as plt

        for fig in figures.values():
            plt.close(getattr(fig, "figure", fig))
        raise
    return save(figures, out, formats, spec_text)


def refresh_plots(run_dir: Path, note=print) -> None:
    """Tables were rewritten: figures drawn from the old ones are redrawn (or removed, if that fails)."""
    from ensemble.present.figstyle import FORMATS
    from ensemble.store.layout import Layout

    plots = Layout(run_dir).plots
    old = sorted(p for p in plots.iterdir() if p.suffix[1:] in FORMATS or p.name.endswith(".caption.txt")) \
        if plots.is_dir() else []  # fmt: skip
    formats = tuple(f for f in FORMATS if any(p.suffix == f".{f}" for p in old))
    if not formats:
        return
    for p in old:
        p.unlink()
    try:
        paths = write_figures(run_dir, formats=formats)
    except Exception as e:  # a figure that cannot be drawn must not hide the tables
        note(f"the figures in {plots} were drawn from the old tables and are removed; redrawing failed: {e}")
        return
    note(f"redrew {len(paths)} figure(s) in {plots} from the new tables")
