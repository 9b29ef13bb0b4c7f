"""Shared fixtures: an isolated data dir and environment for every test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """No test reads the user's real configuration or data."""
    for var in list(__import__("os").environ):
        if var.startswith("PBX_") and var != "PBX_ASTERISK__DIST_DIR":
            monkeypatch.delenv(var)
    monkeypatch.setenv("PBX_DATA_DIR", str(tmp_path / "data"))
    yield
