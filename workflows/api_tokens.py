"""API tokens: a distributor's systems call the receiving API with one.

A token is shown once, when it is made; only its SHA-256 digest is stored, with
a short prefix so people can tell their tokens apart. A token has 240 random
bits, so a plain hash is enough (no salt, no slow hash): nobody can guess one
to match a stolen digest, and a lookup by digest is one indexed query.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocop.trace.models import Organisation

from .errors import InvalidInput, TokenRefused
from .models import ROLE_ORG_KINDS, ApiToken, Role

TOKEN_PREFIX = "ocop_"  # noqa: S105  (a marker, not a secret)
_RANDOM_CHARS = 40  # 30 random bytes, url-safe base64
TOKEN_PATTERN = re.compile(rf"{TOKEN_PREFIX}[A-Za-z0-9_-]{{{_RANDOM_CHARS}}}")
DISPLAY_PREFIX = len(TOKEN_PREFIX) + 7
MAX_NAME = 100
MAX_ACTIVE = 20
# Writing last_used_at on every call would turn each read into a write.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session, organisation: Organisation, name: str, *, created_by: str
) -> tuple[ApiToken, str]:
    """A new token for ``organisation`` and its text, which is returned this once only."""
    if organisation.kind not in ROLE_ORG_KINDS[Role.DISTRIBUTOR]:
        raise InvalidInput(
            "%(name)s is not a distributor or retailer", name=organisation.name
        )
    name = _clean_name(name)
    active = session.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.organisation_id == organisation.id, ApiToken.revoked_at.is_(None))
    )
    if (active or 0) >= MAX_ACTIVE:
        raise InvalidInput(
            "an organisation may hold at most %(most)s active tokens; revoke one first",
            field="name",
            most=MAX_ACTIVE,
        )
    text = TOKEN_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken(
        organisation=organisation,
        name=name,
        prefix=text[:DISPLAY_PREFIX],
        digest=digest(text),
        created_by=created_by[:200],
    )
    session.add(token)
    session.flush()
    return token, text


def authenticate(session: Session, text: str | None, now: dt.datetime) -> ApiToken:
    """The live token whose text this is; notes when it was used. The caller commits.

    Raises :class:`TokenRefused` for a missing, malformed, unknown or revoked token,
    with one message for all so the answer tells an attacker nothing.
    """
    refused = TokenRefused("a valid API token is required (Authorization: Bearer ocop_...)")
    if not text or not TOKEN_PATTERN.fullmatch(text):
        raise refused
    wanted = digest(text)
    token = session.scalars(select(ApiToken).where(ApiToken.digest == wanted)).one_or_none()
    # The lookup is by a hash of the secret, so its timing tells nothing useful;
    # the comparison is constant-time anyway, should the lookup ever change.
    if token is None or not hmac.compare_digest(token.digest, wanted):
        raise refused
    if token.revoked_at is not None:
        raise refused
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
    return token


def revoke_token(session: Session, token: ApiToken, *, by: str, now: dt.datetime) -> bool:
    """Revoke ``token``; False when it was revoked already (nothing changes)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    token.revoked_by = by[:200]
    session.flush()
    return True


def tokens_of(session: Session, organisation_id: int) -> Sequence[ApiToken]:
    """Live tokens first, newest first."""
    return session.scalars(
        select(ApiToken)
        .where(ApiToken.organisation_id == organisation_id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
    ).all()


def _clean_name(raw: str | None) -> str:
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise InvalidInput("give the token a name, e.g. the system that will use it", "name")
    if len(name) > MAX_NAME:
        raise InvalidInput("a name has at most %(most)s characters", field="name", most=MAX_NAME)
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise InvalidInput("a name must not contain control characters", field="name")
    return name


__all__ = ["TOKEN_PREFIX", "authenticate", "create_token", "digest", "revoke_token", "tokens_of"]
