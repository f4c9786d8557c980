"""The bubble family (paper 002): the XXZ chain closed into a ring through a GOE bubble; central eigenstates, gap
ratio, one-site purities. Kernel: xxz_bubble. Analysis: ``ensemble.models.bubble``."""
