"""Fixtures shared by the engine's tests."""

from __future__ import annotations

import pytest

from tests.ensemble.test_hardening import serial_run, spec_file
from tests.helpers import small_spec


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A finished serial run of the small spec (tests/helpers.py), one per test module: read it, do not change it."""
    tmp = tmp_path_factory.mktemp("small")
    out = tmp / "run"
    assert serial_run(spec_file(tmp, small_spec()), out).returncode == 0
    return out
