"""tests.kernels.impurity"""
