"""What ``ocop init`` needs from keys: an authority that can sign, made once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocop.trace.models import Organisation, OrgKind

from .errors import NotAnAuthority
from .keystore import Keystore
from .models import IssuerKey
from .registry import create_key
from .trustlist import KeyStatus

DEFAULT_AUTHORITY_NAME = "Hội đồng OCOP (authority)"
# A placeholder natural key for the local authority; a real deployment
# registers its councils under their budget-relation codes.
DEFAULT_AUTHORITY_TAX_CODE = "OCOP-AUTHORITY"


def ensure_first_authority(
    session: Session,
    keystore: Keystore,
    *,
    name: str = DEFAULT_AUTHORITY_NAME,
    tax_code: str = DEFAULT_AUTHORITY_TAX_CODE,
    actor: str = "ocop init",
) -> tuple[Organisation, IssuerKey, bool]:
    """An authority with an active key: the existing one, or made now (``created`` True).

    Safe to run again: with any authority already able to sign, nothing changes.
    """
    existing = session.execute(
        select(Organisation, IssuerKey)
        .join(IssuerKey, IssuerKey.organisation_id == Organisation.id)
        .where(Organisation.kind == OrgKind.AUTHORITY, IssuerKey.status == KeyStatus.ACTIVE)
        .order_by(Organisation.id)
        .limit(1)
    ).first()
    if existing is not None:
        org, key = existing
        return org, key, False
    org = _first_authority(session, name=name, tax_code=tax_code)
    return org, create_key(session, keystore, org, actor=actor), True


def _first_authority(session: Session, *, name: str, tax_code: str) -> Organisation:
    # An authority whose keys were all revoked keeps its record and gets a new key.
    authorities = session.scalars(
        select(Organisation).where(Organisation.kind == OrgKind.AUTHORITY).order_by(Organisation.id)
    ).all()
    for org in authorities:
        if org.tax_code == tax_code:
            return org
    if authorities:
        return authorities[0]
    taken = session.scalars(
        select(Organisation).where(Organisation.tax_code == tax_code)
    ).one_or_none()
    if taken is not None:
        raise NotAnAuthority(
            "tax code %(tax_code)s belongs to organisation %(org)s (%(name)s), "
            "which is not an authority",
            tax_code=tax_code,
            org=taken.id,
            name=taken.name,
        )
    org = Organisation(kind=OrgKind.AUTHORITY, name=name, tax_code=tax_code)
    session.add(org)
    session.flush()
    return org
