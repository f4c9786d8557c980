"""The front family (paper 003): a localized chain whose first site is coupled to a T = infinity bath through the
noisy field of Eq. (4); its thermalization front and avalanche threshold. Kernels: anderson_trajectory, xxz_trajectory
(noise trajectories), anderson_exact, xxz_exact (exact noise averages); their shared parameters and observables in
``_trajectory``. Analysis: ``ensemble.models.front``."""
