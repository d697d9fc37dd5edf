from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocop.keys import registry
from ocop.keys.bootstrap import ensure_first_authority
from ocop.keys.errors import (
    ActiveKeyExists,
    AmbiguousOrganisation,
    InvalidReason,
    KeyAlreadyRevoked,
    KeyNotFound,
    NoActiveKey,
    NoKeyToRotate,
    NotAnAuthority,
    OrganisationNotFound,
    WrongPassphrase,
)
from ocop.keys.jwk import kid_prefix
from ocop.keys.keystore import Keystore
from ocop.keys.models import IssuerKey
from ocop.keys.registry import (
    DatabaseKeySource,
    active_key,
    active_signer,
    create_key,
    list_keys,
    resolve_org,
    revoke_key,
    rotate_key,
    trust_list,
)
from ocop.keys.trustlist import KeyStatus, TrustList
from ocop.trace.db import Database
from ocop.trace.models import Organisation, OrgKind

PASSPHRASE = b"correct horse battery staple"
T0 = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
_serial = iter(range(1, 1_000_000))


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def keystore(keys_dir: Path) -> Keystore:
    return Keystore(keys_dir, PASSPHRASE)


@pytest.fixture
def empty(clean_database: Database, session: Session) -> Session:
    """The test's session on a database that held nothing when the test began."""
    return session


def _org(session: Session, kind: OrgKind = OrgKind.AUTHORITY) -> Organisation:
    n = next(_serial)
    org = Organisation(kind=kind, name=f"Hội đồng OCOP thử {n}", tax_code=f"KEYTEST{n:06d}")
    session.add(org)
    session.flush()
    return org


@pytest.fixture
def authority(session: Session) -> Organisation:
    return _org(session)


def _verifies(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except Exception:
        return False
    return True


def test_create_key(session, keystore, authority):
    key = create_key(session, keystore, authority, actor="alice", now=T0)
    assert key.id is not None
    assert key.status is KeyStatus.ACTIVE
    assert key.organisation_id == authority.id
    assert key.kid_prefix == kid_prefix(key.kid)
    assert key.not_before == T0
    assert key.created_by == "alice"
    signer = keystore.load(key.kid)
    assert Ed25519PublicKey.from_public_bytes(key.public_key) == signer.public_key
    assert (keystore.directory / f"{key.kid}.key").exists()


def test_only_authorities_hold_keys(session, keystore):
    producer = _org(session, OrgKind.COOPERATIVE)
    with pytest.raises(NotAnAuthority, match="only authorities hold issuer keys"):
        create_key(session, keystore, producer, actor="alice")
    assert keystore.kids() == []


def test_a_second_key_needs_a_rotation(session, keystore, authority):
    first = create_key(session, keystore, authority, actor="alice")
    with pytest.raises(ActiveKeyExists, match="ocop keys rotate") as err:
        create_key(session, keystore, authority, actor="alice")
    assert first.kid in str(err.value)
    assert keystore.kids() == [first.kid]


def test_the_database_allows_one_active_key_per_organisation(session, keystore, authority):
    key = create_key(session, keystore, authority, actor="alice")
    twin = IssuerKey(
        kid="A" * 43,
        kid_prefix=b"\0" * 8,
        organisation=authority,
        public_key=key.public_key,
        status=KeyStatus.ACTIVE,
        not_before=T0,
        created_by="mallory",
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(twin)


def test_a_lost_race_for_the_active_slot_is_one_clear_error(session, keystore, authority):
    create_key(session, keystore, authority, actor="alice")
    # What a concurrent command would meet: the check passed, the insert collides.
    with pytest.raises(ActiveKeyExists, match="another command"):
        registry._add_active_key(session, keystore, authority, actor="bob", now=T1)
    assert len(list_keys_of(session, authority)) == 1


def list_keys_of(session: Session, org: Organisation) -> list[IssuerKey]:
    return [key for key in list_keys(session) if key.organisation_id == org.id]


def test_rotate_retires_the_old_key_and_its_stamps_stay_good(session, keystore, authority):
    old = create_key(session, keystore, authority, actor="alice", now=T0)
    stamp = keystore.load(old.kid).sign(b"a stamp signed before the rotation")
    new = rotate_key(session, keystore, authority, actor="bob", now=T1)
    assert (old.status, old.retired_at) == (KeyStatus.RETIRED, T1)
    assert (new.status, new.created_by, new.not_before) == (KeyStatus.ACTIVE, "bob", T1)
    assert active_key(session, authority) is new
    trusted = {key.kid: key for key in trust_list(session).keys}
    assert trusted[old.kid].status is KeyStatus.RETIRED
    assert trusted[new.kid].status is KeyStatus.ACTIVE
    (candidate,) = trust_list(session).candidates(kid_prefix(old.kid))
    assert _verifies(candidate.public_key, stamp, b"a stamp signed before the rotation")


def test_rotate_twice(session, keystore, authority):
    create_key(session, keystore, authority, actor="alice")
    rotate_key(session, keystore, authority, actor="alice")
    newest = rotate_key(session, keystore, authority, actor="alice")
    statuses = [key.status for key in list_keys_of(session, authority)]
    assert statuses == [KeyStatus.RETIRED, KeyStatus.RETIRED, KeyStatus.ACTIVE]
    assert active_key(session, authority) is newest


def test_rotating_an_organisation_without_a_key(session, keystore, authority):
    with pytest.raises(NoKeyToRotate, match="has no issuer key to rotate"):
        rotate_key(session, keystore, authority, actor="alice")
    assert keystore.kids() == []


def test_rotating_after_a_revocation_asks_for_a_new_key(session, keystore, authority):
    key = create_key(session, keystore, authority, actor="alice")
    revoke_key(session, key.kid, reason="laptop stolen", actor="alice")
    with pytest.raises(NoKeyToRotate, match="ocop keys new"):
        rotate_key(session, keystore, authority, actor="alice")
    fresh = create_key(session, keystore, authority, actor="alice")
    assert active_key(session, authority) is fresh


def test_rotate_with_a_wrong_passphrase_changes_nothing(session, keystore, keys_dir, authority):
    old = create_key(session, keystore, authority, actor="alice")
    files = sorted(keys_dir.iterdir())
    with pytest.raises(WrongPassphrase):
        rotate_key(session, Keystore(keys_dir, b"mistyped passphrase"), authority, actor="alice")
    assert old.status is KeyStatus.ACTIVE
    assert sorted(keys_dir.iterdir()) == files


def test_revoke(session, keystore, authority):
    key = create_key(session, keystore, authority, actor="alice", now=T0)
    revoked = revoke_key(session, key.kid, reason="  key file leaked ", actor="carol", now=T1)
    assert revoked is key
    assert key.status is KeyStatus.REVOKED
    assert (key.revoked_at, key.revoked_reason, key.revoked_by) == (T1, "key file leaked", "carol")
    (entry,) = [k for k in trust_list(session).keys if k.kid == key.kid]
    assert (entry.status, entry.revoked_at) == (KeyStatus.REVOKED, T1)
    with pytest.raises(NoActiveKey, match="ocop keys new"):
        active_key(session, authority)


def test_revoking_a_retired_key(session, keystore, authority):
    old = create_key(session, keystore, authority, actor="alice")
    rotate_key(session, keystore, authority, actor="alice")
    revoke_key(session, old.kid, reason="compromised before rotation", actor="alice")
    assert old.status is KeyStatus.REVOKED
    assert old.retired_at is not None


def test_revoking_an_unknown_kid(session):
    with pytest.raises(KeyNotFound, match="no issuer key with kid 'nope'"):
        revoke_key(session, "nope", reason="x", actor="alice")


def test_revoking_twice(session, keystore, authority):
    key = create_key(session, keystore, authority, actor="alice", now=T0)
    revoke_key(session, key.kid, reason="leaked", actor="alice", now=T1)
    with pytest.raises(KeyAlreadyRevoked, match="already revoked on 2026-06-01 08:00 UTC"):
        revoke_key(session, key.kid, reason="again", actor="bob")
    assert (key.revoked_reason, key.revoked_by, key.revoked_at) == ("leaked", "alice", T1)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_revocation_needs_a_real_reason(session, keystore, authority, reason):
    key = create_key(session, keystore, authority, actor="alice")
    with pytest.raises(InvalidReason):
        revoke_key(session, key.kid, reason=reason, actor="alice")
    assert key.status is KeyStatus.ACTIVE


def test_active_signer(session, keystore, authority):
    key = create_key(session, keystore, authority, actor="alice")
    assert active_signer(session, keystore, authority).kid == key.kid


def test_no_active_key(session, authority, keystore):
    with pytest.raises(NoActiveKey, match="has no issuer key to sign with"):
        active_signer(session, keystore, authority)


def test_resolve_org_by_id(session, authority):
    assert resolve_org(session, authority.id) is authority


def test_resolve_org_unknown_id(session):
    with pytest.raises(OrganisationNotFound, match="no organisation with id 987654321"):
        resolve_org(session, 987654321)


def test_resolve_org_refuses_a_producer(session):
    producer = _org(session, OrgKind.ENTERPRISE)
    with pytest.raises(NotAnAuthority):
        resolve_org(session, producer.id)


def test_resolve_org_picks_the_only_authority(empty):
    _org(empty, OrgKind.COOPERATIVE)
    only = _org(empty)
    assert resolve_org(empty, None) is only


def test_resolve_org_without_any_authority(empty):
    with pytest.raises(OrganisationNotFound, match="ocop init"):
        resolve_org(empty, None)


def test_resolve_org_with_several_authorities_names_them(empty):
    first, second = _org(empty), _org(empty)
    with pytest.raises(AmbiguousOrganisation, match="--org") as err:
        resolve_org(empty, None)
    assert f"{first.id} ({first.name})" in str(err.value)
    assert f"{second.id} ({second.name})" in str(err.value)


def test_trust_list_round_trips_as_json(session, keystore, authority):
    old = create_key(session, keystore, authority, actor="alice", now=T0)
    rotate_key(session, keystore, authority, actor="alice", now=T1)
    revoke_key(session, old.kid, reason="leaked", actor="alice", now=T1)
    published = trust_list(session)
    parsed = TrustList.from_json(published.to_json())
    assert parsed == published
    entry = next(k for k in parsed.keys if k.kid == old.kid)
    assert (entry.org_id, entry.org_name) == (str(authority.id), authority.name)
    assert (entry.not_before, entry.revoked_at) == (T0, T1)


def test_database_key_source(session, keystore, authority):
    old = create_key(session, keystore, authority, actor="alice")
    rotate_key(session, keystore, authority, actor="alice")
    source = DatabaseKeySource(session)
    (found,) = source.candidates(kid_prefix(old.kid))
    assert (found.kid, found.status) == (old.kid, KeyStatus.RETIRED)
    assert source.row(old.kid) is old
    assert source.candidates(b"\xff" * 8) == ()
    with pytest.raises(KeyNotFound):
        source.row("A" * 43)


def test_database_key_source_finds_every_key_sharing_a_prefix(session, keystore, authority):
    key = create_key(session, keystore, authority, actor="alice")
    # Forge a second row with the same 8-byte prefix: only the kid column differs.
    other = _org(session)
    signer = keystore.generate()
    session.add(
        IssuerKey(
            kid=signer.kid,
            kid_prefix=key.kid_prefix,
            organisation=other,
            public_key=signer.public_key.public_bytes_raw(),
            status=KeyStatus.ACTIVE,
            not_before=T0,
            created_by="test",
        )
    )
    session.flush()
    kids = {k.kid for k in DatabaseKeySource(session).candidates(key.kid_prefix)}
    assert kids == {key.kid, signer.kid}


def test_ensure_first_authority_is_idempotent(empty, keystore):
    org, key, created = ensure_first_authority(empty, keystore)
    assert created
    assert org.kind is OrgKind.AUTHORITY
    assert key.status is KeyStatus.ACTIVE
    assert ensure_first_authority(empty, keystore) == (org, key, False)
    assert empty.scalars(select(Organisation)).all() == [org]


def test_ensure_first_authority_replaces_a_revoked_key(empty, keystore):
    org, key, _ = ensure_first_authority(empty, keystore)
    revoke_key(empty, key.kid, reason="leaked", actor="alice")
    again, fresh, created = ensure_first_authority(empty, keystore)
    assert created
    assert again is org
    assert fresh.kid != key.kid
    assert fresh.status is KeyStatus.ACTIVE


def test_ensure_first_authority_keeps_an_existing_authority(empty, keystore):
    existing = _org(empty)
    org, _, created = ensure_first_authority(empty, keystore)
    assert (org, created) == (existing, True)


def test_ensure_first_authority_refuses_a_taken_tax_code(empty, keystore):
    producer = _org(empty, OrgKind.ENTERPRISE)
    with pytest.raises(NotAnAuthority, match=producer.tax_code):
        ensure_first_authority(empty, keystore, tax_code=producer.tax_code)


def test_rotation_rewrites_an_earlier_versions_key_file(session, keystore, keys_dir, authority):
    from cryptography.hazmat.primitives.serialization import (
        BestAvailableEncryption,
        Encoding,
        PrivateFormat,
    )

    old = create_key(session, keystore, authority, actor="alice")
    # As an earlier version left it: encrypted PKCS#8 under the same passphrase.
    key = keystore.load(old.kid)._key
    (keys_dir / f"{old.kid}.key").unlink()
    (keys_dir / f"{old.kid}.pem").write_bytes(
        key.private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(keystore._passphrase)
        )
    )
    fresh = Keystore(keys_dir, keystore._passphrase)
    assert fresh.legacy_kids() == [old.kid]
    signed = fresh.load(old.kid).sign(b"m")  # still opens
    new = rotate_key(session, fresh, authority, actor="alice")
    assert sorted(p.name for p in keys_dir.iterdir()) == sorted(
        [f"{old.kid}.key", f"{new.kid}.key"]
    )
    assert Keystore(keys_dir, keystore._passphrase).load(old.kid).sign(b"m") == signed
