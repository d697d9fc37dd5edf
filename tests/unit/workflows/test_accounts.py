"""Accounts against the real database: the lockout counts every wrong password,
even when they arrive together."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from ocop.trace.db import Database, utcnow
from ocop.trace.models import Organisation, OrgKind
from ocop.workflows import accounts
from ocop.workflows.accounts import MAX_FAILURES, authenticate, count_failure
from ocop.workflows.errors import SignInRefused
from ocop.workflows.models import Role, User

PASSWORD = "một mật khẩu đủ dài"


@pytest.fixture
def account(clean_database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )
    with clean_database.transaction() as session:
        org = Organisation(kind=OrgKind.COOPERATIVE, name="HTX thử", tax_code="0100000001")
        session.add(org)
        user, _ = accounts.create_user(
            session, "htx@test.vn", org, Role.PRODUCER, password=PASSWORD
        )
        uid = user.id
    yield uid


def _state(database: Database, uid: int) -> tuple[int, bool]:
    with database.transaction() as session:
        user = session.get_one(User, uid)
        return user.failed_signins, user.locked_until is not None


def _sign_in(database: Database, password: str) -> bool:
    """One attempt as the sign-in view makes it: a refusal is committed too."""
    with database.transaction() as session:
        try:
            authenticate(session, "htx@test.vn", password, utcnow())
        except SignInRefused:
            return False
        return True


def _wrong_passwords_at_once(database: Database, n: int) -> list[BaseException | None]:
    start = threading.Barrier(n)
    outcomes: list[BaseException | None] = [None] * n

    def attempt(i: int) -> None:
        start.wait()
        try:
            assert not _sign_in(database, f"wrong password {i}")
        except BaseException as error:
            outcomes[i] = error

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_eight_wrong_passwords_in_parallel_lock_the_account(
    clean_database: Database, account: int
) -> None:
    outcomes = _wrong_passwords_at_once(clean_database, 8)
    assert outcomes == [None] * 8
    failed, locked = _state(clean_database, account)
    assert locked, "eight wrong passwords must lock the account"
    # The fifth locked it; those after it counted again or, once they saw the
    # lock (SQLite runs writers one at a time), were refused without counting.
    assert 0 <= failed <= 8 - MAX_FAILURES


def test_the_fifth_wrong_password_locks_and_the_right_one_is_then_refused(
    clean_database: Database, account: int
) -> None:
    for n in range(1, MAX_FAILURES):
        assert not _sign_in(clean_database, "wrong")
        assert _state(clean_database, account) == (n, False)
    assert not _sign_in(clean_database, "wrong")
    assert _state(clean_database, account) == (0, True)
    assert not _sign_in(clean_database, PASSWORD)


def test_count_failure_is_one_update_in_sql(clean_database: Database, account: int) -> None:
    now = utcnow()
    with clean_database.transaction() as session:
        for _ in range(MAX_FAILURES - 1):
            count_failure(session, account, now)
        user = session.scalars(select(User).where(User.id == account)).one()
        assert (user.failed_signins, user.locked_until) == (MAX_FAILURES - 1, None)
        count_failure(session, account, now)
        user = session.get_one(User, account)
        assert user.failed_signins == 0
        assert user.locked_until is not None and user.locked_until > now
