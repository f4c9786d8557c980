"""Planning and running: tasks, their sizes and cost, executors, the run loop, precision goals met while running,
status and progress, and submissions that run in the background.

Layer 5 (above :mod:`ensemble.present`), used by :mod:`ensemble.api`.
"""
