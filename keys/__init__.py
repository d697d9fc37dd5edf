"""Issuer keys: generation, encrypted storage, the key registry and the trust list.

What other packages may use is re-exported here; the modules are:

- :mod:`.jwk`, :mod:`.signer`, :mod:`.trustlist`: pure crypto, no database;
- :mod:`.keystore`, :mod:`.passphrase`: private keys on disk, encrypted;
- :mod:`.registry`, :mod:`.bootstrap`: the rules, on a caller's ``Session``;
- :mod:`.jws`, :mod:`.certificates`, :mod:`.signedlist`: the signed trust list
  under an offline root, pure; :mod:`.root` (the ceremonies) and
  :mod:`.publishing` (the list served) on a ``Session`` (docs/trust-list.md);
- :mod:`.cli`, :mod:`.root_cli`: ``ocop keys`` and ``ocop root``.
"""

from __future__ import annotations

from .bootstrap import ensure_first_authority
from .errors import (
    ActiveKeyExists,
    AmbiguousOrganisation,
    FileAccessError,
    InvalidJWK,
    InvalidReason,
    InvalidTrustList,
    KeyAlreadyRevoked,
    KeyFileCorrupt,
    KeyNotCertified,
    KeyNotFound,
    KeysError,
    NoActiveKey,
    NoKeyToRotate,
    NoRoot,
    NotAnAuthority,
    OrganisationNotFound,
    PassphraseUnavailable,
    RootExists,
    TrustListRefused,
    WeakPassphrase,
    WrongPassphrase,
)
from .jwk import kid_prefix, public_jwk, thumbprint
from .keystore import Keystore
from .models import IssuerKey
from .passphrase import keystore_for, resolve_passphrase
from .publishing import signed_trust_list
from .registry import (
    DatabaseKeySource,
    active_key,
    active_signer,
    create_key,
    find_key,
    list_keys,
    resolve_org,
    revoke_key,
    rotate_key,
    signing_authority,
    trust_list,
    trust_list_changed_at,
    trusted_key,
)
from .root import (
    certify_all,
    certify_issuer_key,
    current_root,
    init_root,
    new_list_signer,
    revoke_by_root,
    rotate_root,
)
from .signedlist import Freshness, VerifiedTrustList, verify_signed_trust_list
from .signer import Ed25519Signer, Signer
from .trustlist import KeyStatus, TrustedKey, TrustList

__all__ = [
    "ActiveKeyExists",
    "AmbiguousOrganisation",
    "DatabaseKeySource",
    "Ed25519Signer",
    "FileAccessError",
    "Freshness",
    "InvalidJWK",
    "InvalidReason",
    "InvalidTrustList",
    "IssuerKey",
    "KeyAlreadyRevoked",
    "KeyFileCorrupt",
    "KeyNotCertified",
    "KeyNotFound",
    "KeyStatus",
    "KeysError",
    "Keystore",
    "NoActiveKey",
    "NoKeyToRotate",
    "NoRoot",
    "NotAnAuthority",
    "OrganisationNotFound",
    "PassphraseUnavailable",
    "RootExists",
    "Signer",
    "TrustList",
    "TrustListRefused",
    "TrustedKey",
    "VerifiedTrustList",
    "WeakPassphrase",
    "WrongPassphrase",
    "active_key",
    "active_signer",
    "certify_all",
    "certify_issuer_key",
    "create_key",
    "current_root",
    "ensure_first_authority",
    "find_key",
    "init_root",
    "keystore_for",
    "kid_prefix",
    "list_keys",
    "new_list_signer",
    "public_jwk",
    "resolve_org",
    "resolve_passphrase",
    "revoke_by_root",
    "revoke_key",
    "rotate_key",
    "rotate_root",
    "signed_trust_list",
    "signing_authority",
    "thumbprint",
    "trust_list",
    "trust_list_changed_at",
    "trusted_key",
    "verify_signed_trust_list",
]
