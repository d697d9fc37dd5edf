"""Issuer keys: generation, encrypted storage, the key registry and the trust list.

What other packages may use is re-exported here; the modules are:

- :mod:`.jwk`, :mod:`.signer`, :mod:`.trustlist`: pure crypto, no database;
- :mod:`.keystore`, :mod:`.passphrase`: private keys on disk, encrypted;
- :mod:`.registry`, :mod:`.bootstrap`: the rules, on a caller's ``Session``;
- :mod:`.cli`: ``ocop keys``.
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
    KeyNotFound,
    KeysError,
    NoActiveKey,
    NoKeyToRotate,
    NotAnAuthority,
    OrganisationNotFound,
    PassphraseUnavailable,
    WeakPassphrase,
    WrongPassphrase,
)
from .jwk import kid_prefix, public_jwk, thumbprint
from .keystore import Keystore
from .models import IssuerKey
from .passphrase import keystore_for, resolve_passphrase
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
from .signer import Ed25519Signer, Signer
from .trustlist import KeyStatus, TrustedKey, TrustList

__all__ = [
    "ActiveKeyExists",
    "AmbiguousOrganisation",
    "DatabaseKeySource",
    "Ed25519Signer",
    "FileAccessError",
    "InvalidJWK",
    "InvalidReason",
    "InvalidTrustList",
    "IssuerKey",
    "KeyAlreadyRevoked",
    "KeyFileCorrupt",
    "KeyNotFound",
    "KeyStatus",
    "KeysError",
    "Keystore",
    "NoActiveKey",
    "NoKeyToRotate",
    "NotAnAuthority",
    "OrganisationNotFound",
    "PassphraseUnavailable",
    "Signer",
    "TrustList",
    "TrustedKey",
    "WeakPassphrase",
    "WrongPassphrase",
    "active_key",
    "active_signer",
    "create_key",
    "ensure_first_authority",
    "find_key",
    "keystore_for",
    "kid_prefix",
    "list_keys",
    "public_jwk",
    "resolve_org",
    "resolve_passphrase",
    "revoke_key",
    "rotate_key",
    "signing_authority",
    "thumbprint",
    "trust_list",
    "trust_list_changed_at",
    "trusted_key",
]
