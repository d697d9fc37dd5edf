"""The signed trust list at national scale: 100 issuer keys (34 councils, rotations).

    python bench/trust_list.py [--keys 100] [--runs 20]

Builds a root, a list signer and N root-certified issuer keys with real Ed25519
signatures, signs the list, and prints its size (raw and gzip) and the time
Python takes to verify it (keys/signedlist.py: the list's signature, its
signer's certificate and every key's certificate), median of the runs. Exits 1
if a genuine list does not verify with every key, or if a list with one bit
flipped does.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import gzip
import statistics
import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocop.keys.certificates import Purpose, certify
from ocop.keys.errors import TrustListRefused
from ocop.keys.jwk import public_jwk
from ocop.keys.signedlist import ListStatements, build_signed_trust_list, verify_signed_trust_list
from ocop.keys.signer import Ed25519Signer
from ocop.keys.trustlist import KeyStatus, TrustedKey, TrustList

NOW = dt.datetime.now(dt.UTC)


def signed_list(count: int) -> tuple[str, str]:
    """A list of ``count`` certified issuer keys, and the root's thumbprint."""
    root, signer = (Ed25519Signer(Ed25519PrivateKey.generate()) for _ in range(2))

    def cert(key: Ed25519Signer, purpose: Purpose, org: int) -> str:
        return certify(
            root, key.public_key, purpose=purpose, org_id=str(org),
            org_name=f"Hội đồng OCOP tỉnh số {org}", not_before=NOW - dt.timedelta(days=1),
            not_after=NOW + dt.timedelta(days=3650), now=NOW,
        )

    issuers = [Ed25519Signer(Ed25519PrivateKey.generate()) for _ in range(count)]
    trust = TrustList(
        TrustedKey(
            kid=key.kid, public_key=key.public_key, org_id=str(i % 35),
            org_name=f"Hội đồng OCOP tỉnh số {i % 35}",
            status=KeyStatus.ACTIVE if i < 35 else KeyStatus.RETIRED,
            not_before=NOW - dt.timedelta(days=1),
        )
        for i, key in enumerate(issuers)
    )
    certificates = {
        key.kid: cert(key, Purpose.STAMP_ISSUER, i % 35) for i, key in enumerate(issuers)
    }
    statements = ListStatements(
        root_jwks=[public_jwk(root.public_key)],
        signer_certificate=cert(signer, Purpose.LIST_SIGNER, 0),
    )
    document = build_signed_trust_list(trust, certificates, statements, signer, sequence=1, now=NOW)
    return document, root.kid


def flipped(document: str) -> str:
    head, body, signature = document.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[7] ^= 0x01
    return f"{head}.{body}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    document, root = signed_list(args.keys)
    raw = document.encode()
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        verified = verify_signed_trust_list(document, [root], NOW)
        times.append(time.perf_counter() - start)
    ok = len(verified.trust.keys) == args.keys and not verified.dropped
    try:
        verify_signed_trust_list(flipped(document), [root], NOW)
        ok = False
    except TrustListRefused:
        pass
    print(f"signed trust list, {args.keys} issuer keys")
    print(f"  size: {len(raw):,} bytes raw, {len(gzip.compress(raw, 9)):,} bytes gzip")
    print(f"  Python verification: median {statistics.median(times) * 1000:.1f} ms, "
          f"min {min(times) * 1000:.1f} ms over {args.runs} runs")
    print(f"  result: {'correct' if ok else 'WRONG'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
