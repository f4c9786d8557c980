"""The ipr family (paper 004): a random-matrix or local spin bath coupled to LIOMs, eigenstate IPRs of bath and
LIOM operators. Kernel: rmt_bath. Analysis: ``ensemble.models.ipr``."""
