"""tests.kernels.numerics"""
