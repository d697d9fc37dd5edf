"""The key registry's rules: create, rotate and revoke issuer keys; publish the trust list.

Every function takes the caller's :class:`Session` and only flushes: the
command or request that calls it owns the transaction and commits it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocop.trace.db import utcnow
from ocop.trace.models import Organisation, OrgKind

from .errors import (
    ActiveKeyExists,
    AmbiguousOrganisation,
    InvalidReason,
    KeyAlreadyRevoked,
    KeyNotCertified,
    KeyNotFound,
    NoActiveKey,
    NoKeyToRotate,
    NotAnAuthority,
    OrganisationNotFound,
)
from .jwk import b64url_encode, kid_prefix
from .keystore import Keystore
from .models import IssuerKey, RootStatement, TrustRoot
from .signer import Signer
from .transparency import append, key_fields
from .trustlist import KeyStatus, TrustedKey, TrustList

_MAX_REASON = 500
_MAX_ACTOR = 200


def create_key(
    session: Session,
    keystore: Keystore,
    org: Organisation,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> IssuerKey:
    """A first (or, after a revocation, a fresh) active key for the authority ``org``."""
    _require_authority(org)
    current = _active_or_none(session, org)
    if current is not None:
        raise ActiveKeyExists(
            "organisation %(org)s (%(name)s) already has the active key %(kid)s; "
            "use `ocop keys rotate` to replace it",
            org=org.id,
            name=org.name,
            kid=current.kid,
        )
    return _add_active_key(session, keystore, org, actor=actor, now=now or utcnow())


def rotate_key(
    session: Session,
    keystore: Keystore,
    org: Organisation,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> IssuerKey:
    """A new active key for ``org``; the old one retires and its stamps stay good."""
    _require_authority(org)
    now = now or utcnow()
    old = _active_or_none(session, org)
    if old is None:
        if _has_keys(session, org):
            raise NoKeyToRotate(
                "organisation %(org)s (%(name)s) has no active key to rotate (its keys are "
                "retired or revoked); create one with `ocop keys new`",
                org=org.id,
                name=org.name,
            )
        raise NoKeyToRotate(
            "organisation %(org)s (%(name)s) has no issuer key to rotate; "
            "create one with `ocop keys new`",
            org=org.id,
            name=org.name,
        )
    # A mistyped passphrase must be refused before the old key is touched.
    keystore.check_passphrase()
    # Rotation is when an operator is at the keys: files an earlier version
    # wrote (PBKDF2, no integrity check) are rewritten in the current format.
    keystore.upgrade()
    old.status = KeyStatus.RETIRED
    old.retired_at = now
    log_key_event(session, old, "retired", now)
    # The partial unique index allows one active key per organisation, and
    # PostgreSQL checks it row by row: the old key must stop being active in
    # the database before the new one is inserted.
    session.flush()
    return _add_active_key(session, keystore, org, actor=actor, now=now)


def revoke_key(
    session: Session,
    kid: str,
    *,
    reason: str,
    actor: str,
    now: dt.datetime | None = None,
) -> IssuerKey:
    """Revoke ``kid``: every stamp it signed now verifies as revoked."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidReason("a revocation needs a reason (--reason TEXT)")
    if len(reason) > _MAX_REASON:
        raise InvalidReason(
            "the revocation reason is longer than %(most)s characters", most=_MAX_REASON
        )
    key = find_key(session, kid)
    if key.status == KeyStatus.REVOKED:
        assert key.revoked_at is not None
        raise KeyAlreadyRevoked(
            "key %(kid)s was already revoked on %(at)s UTC (%(reason)s)",
            kid=key.kid,
            at=key.revoked_at.strftime("%Y-%m-%d %H:%M"),
            reason=key.revoked_reason,
        )
    key.status = KeyStatus.REVOKED
    key.revoked_at = now or utcnow()
    key.revoked_reason = reason
    key.revoked_by = _actor(actor)
    session.flush()
    log_key_event(session, key, "revoked", key.revoked_at)
    return key


def log_key_event(session: Session, key: IssuerKey, event: str, at: dt.datetime) -> None:
    """Append a key's event to the transparency log: no key can sign unseen."""
    append(
        session,
        key_fields(
            event=event,
            kid=key.kid,
            organisation=key.organisation_id,
            public_key=b64url_encode(bytes(key.public_key)),
            at=at,
        ),
        kid=key.kid,
        now=at,
    )


def find_key(session: Session, kid: str) -> IssuerKey:
    key = session.scalars(select(IssuerKey).where(IssuerKey.kid == kid.strip())).one_or_none()
    if key is None:
        raise KeyNotFound("no issuer key with kid %(kid)r (see `ocop keys list`)", kid=kid)
    return key


def list_keys(session: Session) -> Sequence[IssuerKey]:
    """Every key, any status, grouped by organisation, oldest first."""
    return session.scalars(
        select(IssuerKey).order_by(IssuerKey.organisation_id, IssuerKey.id)
    ).all()


def active_key(session: Session, org: Organisation) -> IssuerKey:
    """The key ``org`` signs new batches with; raises :class:`NoActiveKey` when none,
    and :class:`KeyNotCertified` when a root is configured and has not certified it."""
    key = _active_or_none(session, org)
    if key is not None:
        _require_certificate(session, key)
    if key is None:
        if _has_keys(session, org):
            raise NoActiveKey(
                "organisation %(org)s (%(name)s) has no active key to sign with (its keys are "
                "retired or revoked); create one with `ocop keys new`",
                org=org.id,
                name=org.name,
            )
        raise NoActiveKey(
            "organisation %(org)s (%(name)s) has no issuer key to sign with; "
            "create one with `ocop keys new`",
            org=org.id,
            name=org.name,
        )
    return key


def _require_certificate(session: Session, key: IssuerKey) -> None:
    # Offline verifiers pinned to the root drop a key without a certificate: its
    # stamps would verify as "unknown key" everywhere but on this server.
    root = session.scalars(select(TrustRoot.kid).where(TrustRoot.replaced_at.is_(None))).first()
    if root is None:
        return
    certified = session.scalars(
        select(RootStatement.id)
        .where(
            RootStatement.kind == "certificate",
            RootStatement.root_kid == root,
            RootStatement.subject_kid == key.kid,
            RootStatement.purpose == "stamp-issuer",
        )
        .limit(1)
    ).first()
    if certified is None:
        raise KeyNotCertified(
            "key %(kid)s is not certified by the root %(root)s yet, so it cannot sign stamps; "
            "certify it with `ocop root certify %(kid)s`",
            kid=key.kid,
            root=root,
        )


def active_signer(session: Session, keystore: Keystore, org: Organisation) -> Signer:
    return keystore.load(active_key(session, org).kid)


def resolve_org(session: Session, org_id: int | None) -> Organisation:
    """The authority a command acts for: ``org_id``, or the only authority there is."""
    if org_id is not None:
        org = session.get(Organisation, org_id)
        if org is None:
            raise OrganisationNotFound("no organisation with id %(org)s", org=org_id)
        _require_authority(org)
        return org
    authorities = session.scalars(
        select(Organisation).where(Organisation.kind == OrgKind.AUTHORITY).order_by(Organisation.id)
    ).all()
    if not authorities:
        raise OrganisationNotFound("there is no authority yet; run `ocop init` first")
    if len(authorities) > 1:
        raise AmbiguousOrganisation(
            "there are several authorities; choose one with --org: %(choices)s",
            choices=_choices(authorities),
        )
    return authorities[0]


def signing_authority(session: Session, org_id: int | None) -> Organisation:
    """The authority that signs a batch: ``org_id``, or the only one holding an active key.

    Authorities without a key (a council recorded for its certificates, say)
    are no candidates, so they never make the choice ambiguous.
    """
    if org_id is not None:
        return resolve_org(session, org_id)
    signers = session.scalars(
        select(Organisation)
        .join(IssuerKey, IssuerKey.organisation_id == Organisation.id)
        .where(Organisation.kind == OrgKind.AUTHORITY, IssuerKey.status == KeyStatus.ACTIVE)
        .order_by(Organisation.id)
    ).all()
    if not signers:
        raise NoActiveKey("no authority holds an active key; run `ocop init` or `ocop keys new`")
    if len(signers) > 1:
        raise AmbiguousOrganisation(
            "several authorities can sign; choose one with --org: %(choices)s",
            choices=_choices(signers),
        )
    return signers[0]


def trusted_key(key: IssuerKey) -> TrustedKey:
    """The trust-list entry of a registry row."""
    return TrustedKey(
        kid=key.kid,
        public_key=Ed25519PublicKey.from_public_bytes(key.public_key),
        org_id=str(key.organisation.id),
        org_name=key.organisation.name,
        status=key.status,
        not_before=key.not_before,
        not_after=key.not_after,
        revoked_at=key.revoked_at,
    )


def trust_list(session: Session) -> TrustList:
    """Every key ever registered, any status: revoked keys must stay listed to be refused."""
    return TrustList(trusted_key(key) for key in list_keys(session))


def trust_list_changed_at(session: Session) -> dt.datetime | None:
    """When a key was last added, retired or revoked: the trust list's Last-Modified."""
    times = [
        session.scalar(select(func.max(column)))
        for column in (IssuerKey.created_at, IssuerKey.retired_at, IssuerKey.revoked_at)
    ]
    known = [t for t in times if t is not None]
    return max(known) if known else None


class DatabaseKeySource:
    """The registry seen as a trust list, for the online verifier.

    Looks keys up by the indexed 8-byte prefix instead of loading every key,
    and keeps what it found for its own lifetime (one request or command).
    :meth:`row` gives the registry row behind a trusted key, since batches
    refer to keys by ``IssuerKey.id``.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_prefix: dict[bytes, tuple[TrustedKey, ...]] = {}
        self._rows: dict[str, IssuerKey] = {}

    def candidates(self, prefix: bytes) -> tuple[TrustedKey, ...]:
        prefix = bytes(prefix)
        if prefix not in self._by_prefix:
            rows = self.session.scalars(
                select(IssuerKey).where(IssuerKey.kid_prefix == prefix).order_by(IssuerKey.id)
            ).all()
            self._rows.update((row.kid, row) for row in rows)
            self._by_prefix[prefix] = tuple(trusted_key(row) for row in rows)
        return self._by_prefix[prefix]

    def row(self, kid: str) -> IssuerKey:
        """The registry row of ``kid``; raises :class:`KeyNotFound` when there is none."""
        if kid not in self._rows:
            self._rows[kid] = find_key(self.session, kid)
        return self._rows[kid]


def _add_active_key(
    session: Session, keystore: Keystore, org: Organisation, *, actor: str, now: dt.datetime
) -> IssuerKey:
    # The key file is written before the row: a failed commit leaves an unused
    # encrypted file, never a registered key whose private half is missing.
    signer = keystore.generate()
    key = IssuerKey(
        kid=signer.kid,
        kid_prefix=kid_prefix(signer.kid),
        organisation=org,
        public_key=signer.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw),
        status=KeyStatus.ACTIVE,
        not_before=now,
        created_by=_actor(actor),
    )
    try:
        with session.begin_nested():
            session.add(key)
            session.flush()
            log_key_event(session, key, "registered", now)
    except IntegrityError:
        # Another command gave this organisation an active key meanwhile.
        raise ActiveKeyExists(
            "the keys of organisation %(org)s (%(name)s) were changed by another command at "
            "the same time; check `ocop keys list` and try again",
            org=org.id,
            name=org.name,
        ) from None
    return key


def _active_or_none(session: Session, org: Organisation) -> IssuerKey | None:
    return session.scalars(
        select(IssuerKey).where(
            IssuerKey.organisation_id == org.id, IssuerKey.status == KeyStatus.ACTIVE
        )
    ).one_or_none()


def _has_keys(session: Session, org: Organisation) -> bool:
    """Whether ``org`` ever held a key (retired or revoked now), to say what to do."""
    found = session.scalars(
        select(IssuerKey.id).where(IssuerKey.organisation_id == org.id).limit(1)
    ).first()
    return found is not None


def _require_authority(org: Organisation) -> None:
    if org.kind != OrgKind.AUTHORITY:
        raise NotAnAuthority(
            "organisation %(org)s (%(name)s) is a %(kind)s, not an authority: only "
            "authorities hold issuer keys",
            org=org.id,
            name=org.name,
            kind=org.kind,
        )


def _choices(orgs: Sequence[Organisation]) -> str:
    return ", ".join(f"{org.id} ({org.name})" for org in orgs)


def _actor(actor: str) -> str:
    return (actor.strip() or "unknown")[:_MAX_ACTOR]
