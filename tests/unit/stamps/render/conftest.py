from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from tests.unit.stamps.render.helpers import LOCAL_BASE, stamp_url


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """Random, but the same for each run of a given test."""
    return random.Random(request.node.nodeid)


@pytest.fixture
def make_url(rng: random.Random) -> Callable[..., str]:
    return lambda base=LOCAL_BASE: stamp_url(rng, base)
