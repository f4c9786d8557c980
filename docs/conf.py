"""Sphinx configuration of the mbl-ensemble docs (build: python3 -m sphinx -W -b html docs docs/_build/html)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

from ensemble import __version__  # noqa: E402

project = "mbl-ensemble"
author = "the mbl-ensemble developers"
copyright = "2026, the mbl-ensemble developers"
release = version = __version__

extensions = [
    "myst_nb",  # Markdown (MyST) pages and executed notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "generate_reference",  # the spec reference and per-kernel pages, written from the code at each build
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
# generated tables that pages include (examples/paper000_readings.py, examples/ergodic_grain.py --table)
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute", "papers/000-readings.md", "papers/grain-numbers.md"]
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# Tutorials are executed at every build (and in the tests): a notebook that fails fails the build.
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": False}
napoleon_numpy_docstring = True
napoleon_google_docstring = False

html_theme = "furo"
html_title = f"mbl-ensemble {release}"
nitpicky = False
suppress_warnings = ["myst.header"]
