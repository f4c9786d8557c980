"""The guard against stale cross-module Numba caches."""

from __future__ import annotations

from kernels import _cache


def test_stale_cache_files_are_removed_when_sources_change(tmp_path, monkeypatch):
    pkg = tmp_path / "kernels"
    (pkg / "__pycache__").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    stale = pkg / "__pycache__" / "a.f-1.py311.nbi"
    stale.write_text("old")
    monkeypatch.setattr(_cache, "PACKAGE", pkg)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    assert _cache.ensure_fresh() == 1 and not stale.exists()
    stale.write_text("fresh")
    assert _cache.ensure_fresh() == 0 and stale.exists()  # sources unchanged: cache kept
    (pkg / "a.py").write_text("x = 2\n")
    assert _cache.ensure_fresh() == 1 and not stale.exists()
