"""Numerics the families share: Chebyshev propagation, POLFED, spectral ties and histograms, level statistics,
spin bases. No physics model of its own."""
