"""Presentation: how results are shown (labels and captions, figures and their style, HTML, the kernel
catalog, the new-kernel template, the papers' reproduction specs).

Layer 4 (above :mod:`ensemble.store.stores`); the models' figures and reports use it.
"""
