"""tests.kernels.bubble"""
