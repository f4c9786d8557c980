"""tests.kernels.quench"""
