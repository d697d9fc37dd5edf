"""Fixtures of the trace tests."""

from __future__ import annotations

from typing import Any

import pytest

from .documents import chain


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh copy of the small valid chain, for a test to break one field of."""
    return chain()
