"""tests.kernels.ipr"""
