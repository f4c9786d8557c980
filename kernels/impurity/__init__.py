"""The impurity family (paper 001): hard-core d-bosons in an Anderson insulator with one clean c-boson, exact
(boson_impurity) and by TEBD (boson_tebd). Analysis: ``ensemble.models.impurity``."""
