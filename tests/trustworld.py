"""A root, a list signer and issuer keys in memory: signed trust lists for tests.

Real keys and real signatures, no database; the ceremonies' database side is
tested through the CLI in tests/functional/test_root_cli.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocop.keys.certificates import Purpose, certify, revoke, rotate
from ocop.keys.jwk import public_jwk
from ocop.keys.signedlist import ListStatements, build_signed_trust_list
from ocop.keys.signer import Ed25519Signer
from ocop.keys.trustlist import KeyStatus, TrustedKey, TrustList

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
YEAR = dt.timedelta(days=365)


def new_signer(seed: bytes | None = None) -> Ed25519Signer:
    if seed is not None:
        return Ed25519Signer(Ed25519PrivateKey.from_private_bytes(seed))
    return Ed25519Signer(Ed25519PrivateKey.generate())


@dataclass
class World:
    root: Ed25519Signer = field(default_factory=new_signer)
    list_signer: Ed25519Signer = field(default_factory=new_signer)
    issuers: list[Ed25519Signer] = field(default_factory=list)
    certificates: dict[str, str] = field(default_factory=dict)
    revocations: list[str] = field(default_factory=list)
    rotations: list[str] = field(default_factory=list)
    old_roots: list[Ed25519Signer] = field(default_factory=list)
    signer_certificate: str = ""

    @classmethod
    def make(cls, issuers: int = 2, *, now: dt.datetime = NOW, seeds: list[bytes] = ()) -> World:
        world = cls()
        world.signer_certificate = world.certify(world.list_signer, Purpose.LIST_SIGNER, now=now)
        for position in range(issuers):
            seed = seeds[position] if position < len(seeds) else None
            world.add_issuer(new_signer(seed), now=now)
        return world

    def certify(
        self,
        signer: Ed25519Signer,
        purpose: Purpose = Purpose.STAMP_ISSUER,
        *,
        now: dt.datetime = NOW,
        by: Ed25519Signer | None = None,
        not_after: dt.datetime | None = None,
    ) -> str:
        return certify(
            by or self.root,
            signer.public_key,
            purpose=purpose,
            org_id=f"org-{signer.kid[:6]}",
            org_name="Hội đồng OCOP tỉnh Hưng Yên",
            not_before=now - YEAR,
            not_after=not_after or now + 10 * YEAR,
            now=now,
        )

    def add_issuer(
        self, signer: Ed25519Signer, *, now: dt.datetime = NOW, cert: bool = True
    ) -> None:
        self.issuers.append(signer)
        if cert:
            self.certificates[signer.kid] = self.certify(signer, now=now)

    def revoke(self, signer: Ed25519Signer, *, now: dt.datetime = NOW) -> None:
        self.revocations.append(revoke(self.root, signer.kid, reason="key lost", revoked_at=now))

    def rotate_root(self, *, now: dt.datetime = NOW) -> None:
        new = new_signer()
        self.rotations.append(rotate(self.root, new.public_key, now=now))
        self.old_roots.append(self.root)
        self.root = new
        self.signer_certificate = self.certify(self.list_signer, Purpose.LIST_SIGNER, now=now)
        for issuer in self.issuers:
            if issuer.kid in self.certificates:
                self.certificates[issuer.kid] = self.certify(issuer, now=now)

    def trust(self) -> TrustList:
        return TrustList(
            TrustedKey(
                kid=s.kid,
                public_key=s.public_key,
                org_id=f"org-{s.kid[:6]}",
                org_name="Hội đồng OCOP tỉnh Hưng Yên",
                status=KeyStatus.ACTIVE,
            )
            for s in self.issuers
        )

    def document(
        self,
        *,
        sequence: int = 1,
        now: dt.datetime = NOW,
        validity: dt.timedelta = dt.timedelta(hours=24),
        signer: Ed25519Signer | None = None,
        listed_certificates: dict[str, str] | None = None,
    ) -> str:
        certificates = dict(self.certificates)
        # A key listed without a certificate: the server signed it in regardless.
        for issuer in self.issuers:
            certificates.setdefault(issuer.kid, "")
        statements = ListStatements(
            root_jwks=[public_jwk(r.public_key) for r in (*self.old_roots, self.root)],
            signer_certificate=self.signer_certificate,
            revocations=self.revocations,
            root_rotations=self.rotations,
        )
        return build_signed_trust_list(
            self.trust(),
            listed_certificates if listed_certificates is not None else certificates,
            statements,
            signer or self.list_signer,
            sequence=sequence,
            now=now,
            validity=validity,
        )
