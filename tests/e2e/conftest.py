"""Fixtures for the end-to-end tests (helpers live in e2e_support.py)."""

import shutil

import pytest


@pytest.fixture
def go_available() -> None:
    if shutil.which("go") is None:
        pytest.skip("needs a Go toolchain on PATH")
