"""The quench family (paper 000): two disordered Heisenberg chains (system and environment) quenched from Neel
states. Kernel: coupled_chains. Analysis: ``ensemble.models.quench``."""
