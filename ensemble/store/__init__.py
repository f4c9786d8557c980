"""The run directory and its tables: layout (every file name), partials, stores, locks, the lifecycle of a run
directory, opening finished runs, queries, and the one guard for writing outside the engine.

Layer 3 (above :mod:`ensemble.analysis`). :mod:`ensemble.store.stores.layout` owns the directory's layout.
"""
