"""Analysis: from block moments to the summary and fits tables (pure: nothing here reads or writes files).

Layer 2 (above :mod:`ensemble.spec.experiment`). ``reduce``: moments, their merge and jackknife; ``tables``: the summary and
fits of an experiment from its block moments and its model's analysis; ``resolution``: how far a fit's point
is from what the data can resolve.
"""
