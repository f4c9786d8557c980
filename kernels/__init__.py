"""Numba kernels: one realization of one physics model each (numpy + numba + scipy only)."""
