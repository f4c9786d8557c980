"""The package version: from the installed distribution's metadata (pyproject.toml's ``version``)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

__all__ = ["__version__"]


def _version() -> str:
    try:
        return metadata.version("mbl-ensemble")
    except metadata.PackageNotFoundError:  # a source tree on sys.path, not installed: read pyproject.toml
        import re

        text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
        return re.search(r'^version\s*=\s*"([^"]+)"', text, flags=re.M).group(1)


__version__ = _version()
