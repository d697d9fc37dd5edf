"""Accounts: creating them, signing in with a lockout, changing passwords.

Passwords are hashed with Argon2id (memory-hard). A wrong password, an unknown
email and a locked account all get the same answer, so the sign-in form does
not tell an attacker which emails exist.
"""

from __future__ import annotations

import datetime as dt
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, func, literal, select, update
from sqlalchemy.orm import Session

from ocop.trace.db import UtcDateTime
from ocop.trace.errors import either
from ocop.trace.models import Organisation

from .errors import AccountExists, AccountState, InvalidInput, SignInRefused, WeakPassword
from .models import ROLE_ORG_KINDS, Role, User

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD = 10
MAX_PASSWORD = 256

_hasher = PasswordHasher()  # argon2-cffi's defaults: Argon2id, 64 MiB, 3 passes
# Verified against when the email is unknown, so both cases take as long.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def normalise_email(raw: str) -> str:
    email = unicodedata.normalize("NFC", (raw or "").strip()).lower()
    local, at, domain = email.partition("@")
    if (
        not at
        or not local
        or "." not in domain
        or len(email) > 254
        or any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in email)
    ):
        raise InvalidInput(
            "%(given)r is not an email address", field="email", given=(raw or "")[:80]
        )
    return email


def one_time_password() -> str:
    """A first password to hand over once; the user must change it at first sign-in."""
    return secrets.token_urlsafe(12)


def check_password_policy(password: str, email: str | None = None) -> None:
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(
            "the password needs at least %(least)s characters",
            field="new_password",
            least=MIN_PASSWORD,
        )
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(
            "the password can have at most %(most)s characters",
            field="new_password",
            most=MAX_PASSWORD,
        )
    if email and password.strip().lower() in {email, email.partition("@")[0]}:
        raise WeakPassword("the password must not be your email address", field="new_password")


def create_user(
    session: Session,
    email: str,
    organisation: Organisation,
    role: Role,
    *,
    password: str | None = None,
) -> tuple[User, str]:
    """A new account and its one-time password (returned once, stored only hashed)."""
    email = normalise_email(email)
    if organisation.kind not in ROLE_ORG_KINDS[role]:
        raise InvalidInput(
            "a %(role)s belongs to an organisation of kind %(kinds)s; %(name)s is %(kind)s",
            field="role",
            role=role.value,
            kinds=either(sorted(k.value for k in ROLE_ORG_KINDS[role])),
            name=organisation.name,
            kind=organisation.kind.value,
        )
    if session.scalar(select(func.count()).where(User.email == email)):
        raise AccountExists("an account for %(email)s already exists", email=email)
    secret = password if password is not None else one_time_password()
    check_password_policy(secret, email)
    user = User(
        email=email,
        organisation=organisation,
        role=role,
        password_hash=_hasher.hash(secret),
        must_change_password=password is None,
    )
    session.add(user)
    session.flush()
    return user, secret


def find_user(session: Session, email: str) -> User | None:
    try:
        email = normalise_email(email)
    except InvalidInput:
        return None
    return session.scalars(select(User).where(User.email == email)).one_or_none()


def authenticate(session: Session, email: str, password: str, now: dt.datetime) -> User:
    """The user whose credentials these are; failures count towards a lockout.

    The caller commits whatever happens: a failure must be remembered too.
    """
    password = password[:MAX_PASSWORD]
    user = find_user(session, email)
    if user is None:
        _verify(_DUMMY_HASH, password)
        raise SignInRefused("wrong email or password")
    if user.locked_until is not None and user.locked_until > now:
        _verify(_DUMMY_HASH, password)
        raise SignInRefused("wrong email or password, or the account is locked for a while")
    if not _verify(user.password_hash, password) or not user.active:
        count_failure(session, user.id, now)
        raise SignInRefused("wrong email or password, or the account is locked for a while")
    user.failed_signins = 0
    user.locked_until = None
    user.last_signin_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.flush()
    return user


def count_failure(session: Session, user_id: int, now: dt.datetime) -> None:
    """Count one wrong password, locking the account at the :data:`MAX_FAILURES`-th.

    One UPDATE that reads and writes the count in the database: wrong passwords
    sent in parallel are each counted (a read-modify-write in Python lost most
    of them, and the account never locked). Both sides of SET see the row as it
    was, so the count restarts at 0 in the same statement that locks.
    """
    reaches = User.failed_signins + 1 >= MAX_FAILURES
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(
            failed_signins=case((reaches, 0), else_=User.failed_signins + 1),
            locked_until=case(
                (reaches, literal(now + LOCKOUT, UtcDateTime())), else_=User.locked_until
            ),
        )
        .execution_options(synchronize_session=False)
    )
    session.expire_all()


def end_sessions(session: Session, user_id: int) -> None:
    """Sign the account out everywhere: every session cookie carries the epoch it was
    made in, and one that no longer matches is refused (a copied cookie included)."""
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(session_epoch=User.session_epoch + 1)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not _verify(user.password_hash, current[:MAX_PASSWORD]):
        raise InvalidInput("the current password is wrong", field="current_password")
    if new == current:
        raise WeakPassword("choose a password different from the current one", field="new_password")
    check_password_policy(new, user.email)
    user.password_hash = _hasher.hash(new)
    user.must_change_password = False
    user.session_epoch += 1
    session.flush()


def reset_password(session: Session, user: User) -> str:
    """A new one-time password (for ``ocop users reset``); ends the user's sessions."""
    secret = one_time_password()
    user.password_hash = _hasher.hash(secret)
    user.must_change_password = True
    user.failed_signins = 0
    user.locked_until = None
    user.session_epoch += 1
    session.flush()
    return secret


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def disable_user(session: Session, user: User, *, by_user_id: int | None) -> None:
    """Stop an account from signing in and end its sessions at once.

    ``by_user_id`` is the officer doing it (None from the command line): nobody
    locks themself out, so an authority always keeps one officer who can act.
    """
    if user.id == by_user_id:
        raise AccountState("you cannot disable your own account; ask another officer")
    if not user.active:
        raise AccountState("%(email)s is already disabled", email=user.email)
    user.active = False
    user.session_epoch += 1
    session.flush()


def enable_user(session: Session, user: User) -> None:
    if user.active:
        raise AccountState("%(email)s is already active", email=user.email)
    user.active = True
    session.flush()
