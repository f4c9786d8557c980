"""A run's tables from its stored partials: each point's blocks read once, the tables computed
(:func:`ensemble.analysis.tables.compute_tables`), and written back with a record of what they were computed
with (``tables/manifest.json`` in a run directory)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pandas as pd

from ensemble.analysis.reduce import BlockMoments
from ensemble.analysis.tables import compute_tables

__all__ = ["READ_ONCE_BYTES", "manifest", "summarize", "tables_current"]

#: A point's blocks up to this size are read from the store once and kept for the merge and the jackknife; a
#: larger point is streamed again for each pass (memory stays at one partial file).
READ_ONCE_BYTES = 512 * 2**20


class _Blocks:
    """A point's blocks, walked any number of times: held after the first reading while they fit in
    :data:`READ_ONCE_BYTES`, else read from the store again on each walk."""

    def __init__(self, store, exp, pt):
        self.store, self.exp, self.pt = store, exp, pt
        self.held: list[BlockMoments] | None = None

    def __iter__(self) -> Iterator[BlockMoments]:
        if self.held is not None:
            yield from self.held
            return
        held, size = [], 0
        for chunk in self.store.chunks(self.exp, self.pt):
            if held is not None:
                size += chunk.nbytes
                if size <= READ_ONCE_BYTES:
                    held.append(chunk)
                else:
                    held = None
            yield chunk
        self.held = held


def summarize(exp, store, origin: str = "run") -> dict[str, pd.DataFrame]:
    """Build the tables of ``exp`` from the partials in ``store`` and put them there, with their manifest."""
    tables = compute_tables(exp, lambda pt: _Blocks(store, exp, pt))
    for name, df in tables.items():
        if len(df.columns):
            store.put_table(name, df)
        else:  # e.g. a model without fits: no file (and no stale one)
            store.drop_table(name)
    store.put_record("manifest", manifest(exp, tables, origin, getattr(store, "versions", None)))
    return tables


def manifest(exp, tables: Mapping[str, pd.DataFrame], origin: str, store_versions: set | None = None) -> dict:
    """What a set of tables was computed with (see :func:`summarize`): the [fit] settings and where they came from
    (``origin``: "run", or the refit command), the realizations of every point, the time and the versions.."""
    import datetime

    from ensemble.spec.provenance import versions
    from ensemble.spec.settings import to_dict

    return {
        "computed": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "origin": origin,
        "model": exp.model.name,
        "fit": to_dict(exp.fit),
        "realizations": {f"{pt.key:016x}": pt.realizations for pt in exp.points},
        "tables": {name: int(len(df)) for name, df in tables.items() if len(df.columns)},
        "versions": versions(),
        **({"scaling": exp.scaling.to_dict()} if getattr(exp, "scaling", None) is not None else {}),
        # versions of the package that computed the blocks (null: written before versions were recorded)
        **({"partials_from": sorted(store_versions, key=str)} if store_versions is not None else {}),
    }


def tables_current(exp, store) -> bool:
    """Whether ``store`` holds every block of ``exp`` (a run without a precision goal) and tables computed from
    exactly those blocks with this spec's analysis settings: then there is nothing to compute or rewrite."""
    from ensemble.spec.settings import to_dict

    if exp.precision is not None:
        return False
    done = store.done_blocks(exp)
    if any(len(done.get(pt.key, ())) < pt.n_blocks for pt in exp.points):
        return False
    doc = store.record("manifest")
    if not doc:
        return False
    want = {f"{pt.key:016x}": pt.realizations for pt in exp.points}
    scaling = exp.scaling.to_dict() if getattr(exp, "scaling", None) is not None else None
    if (doc.get("realizations") != want or doc.get("model") != exp.model.name or doc.get("fit") != to_dict(exp.fit)
            or doc.get("scaling") != scaling):  # fmt: skip
        return False
    layout = getattr(store, "layout", None)
    if layout is None or not isinstance(doc.get("tables"), dict):
        return False
    return all(layout.table(name).is_file() for name in ("summary", *doc["tables"]))  # a table removed is rebuilt
