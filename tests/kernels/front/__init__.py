"""tests.kernels.front"""
