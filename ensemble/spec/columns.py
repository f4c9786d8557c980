"""The names a run's table columns take: the engine's own (reserved) and the kernel's parameters and axes, which
must stay distinct however SQL folds case."""

from __future__ import annotations

from ensemble.errors import SpecError

__all__ = ["RESERVED_COLUMNS", "check_column_names"]


#: Columns the engine itself puts in the tables (summary, fits, a catalog's, status's provisional ones): no kernel
#: parameter or axis may take one of these names in any case (DuckDB folds case: ``N`` is ``n``).
RESERVED_COLUMNS = ("observable", "n", "mean", "sem", "estimator", "fit", "status", "blocks", "bin", "run", "run_dir",
                    "provisional")  # fmt: skip


def check_column_names(kernel, params) -> None:
    """SpecError unless the kernel's parameters and its observables' axes make distinct table columns: none equal
    to a reserved column, nor to each other, in any case (as DuckDB and SQL read them)."""
    names = [(n, "parameter") for n in kernel.param_names if n != "times"]
    names += [(a, "axis") for a in dict.fromkeys(a for axes in kernel.schema(params).values() for a in axes)]
    seen: dict[str, tuple[str, str]] = {}
    reserved = {c.lower(): c for c in RESERVED_COLUMNS}
    for name, what in names:
        folded = name.lower()
        if folded in reserved:
            raise SpecError("kernel", kernel.name, f"a kernel whose {what}s do not take the name of a column of the "
                            f"tables: its {what} {name!r} would be read as the column {reserved[folded]!r} (SQL folds "
                            f"case; reserved: {', '.join(RESERVED_COLUMNS)}): rename it in the kernel")  # fmt: skip
        if folded in seen and not (what == "axis" and seen[folded] == (name, "axis")):
            other, kind = seen[folded]
            raise SpecError("kernel", kernel.name, f"a kernel whose parameters and axes are distinct columns in any "
                            f"case: the {kind} {other!r} and the {what} {name!r} would be one column in SQL: rename one")  # fmt: skip
        seen[folded] = (name, what)
