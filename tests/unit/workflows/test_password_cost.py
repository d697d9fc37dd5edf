"""Console passwords at Argon2's production cost.

The one place the suite hashes at that cost: every other test runs with the cheap
hasher of ``cheap_password_hashes`` in tests/conftest.py.
"""

from __future__ import annotations

import pytest
from argon2 import Parameters, Type, extract_parameters

from ocop.trace.db import utcnow
from ocop.workflows import accounts
from ocop.workflows.models import Role
from tests import factories as f

PASSWORD = "mật khẩu đủ dài 2026"
# argon2-cffi's defaults, RFC 9106's second recommended option: Argon2id, 64 MiB, 3 passes.
PRODUCTION = Parameters(
    type=Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=3,
    memory_cost=64 * 1024,
    parallelism=4,
)


@pytest.mark.production_hashes
def test_passwords_are_hashed_with_argon2id_at_production_cost(session) -> None:
    user, _ = accounts.create_user(
        session, "htx@test.vn", f.organisation(session), Role.PRODUCER, password=PASSWORD
    )
    assert extract_parameters(user.password_hash) == PRODUCTION
    # An unknown email is checked against a hash of the same cost: both take as long.
    assert extract_parameters(accounts._DUMMY_HASH) == PRODUCTION
    assert accounts.authenticate(session, "htx@test.vn", PASSWORD, utcnow()) is user
    assert extract_parameters(user.password_hash) == PRODUCTION  # no rehash to anything else


def test_the_rest_of_the_suite_hashes_cheaply(session) -> None:
    user, _ = accounts.create_user(
        session, "htx@test.vn", f.organisation(session), Role.PRODUCER, password=PASSWORD
    )
    assert extract_parameters(user.password_hash).memory_cost < PRODUCTION.memory_cost
