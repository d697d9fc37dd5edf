from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ocop.keys.errors import InvalidTrustList, KeysError
from ocop.keys.jwk import b64url_encode, public_jwk, thumbprint
from ocop.keys.trustlist import KeyStatus, TrustedKey, TrustList

ICT = timezone(timedelta(hours=7))


def _key(status: KeyStatus = KeyStatus.ACTIVE, **fields) -> TrustedKey:
    public_key = Ed25519PrivateKey.generate().public_key()
    return TrustedKey(
        **{
            "kid": thumbprint(public_key),
            "public_key": public_key,
            "org_id": "42",
            "org_name": "Sở Nông nghiệp Hưng Yên",
            "status": status,
            **fields,
        }
    )


def _entry(**changes) -> dict:
    public_key = Ed25519PrivateKey.generate().public_key()
    entry = {
        **public_jwk(public_key),
        "kid": thumbprint(public_key),
        "org": {"id": "7", "name": "HTX Chè Tân Cương"},
        "status": "active",
        "not_before": "2025-01-01T00:00:00Z",
        "not_after": None,
        "revoked_at": None,
    }
    entry.update(changes)
    return {name: value for name, value in entry.items() if value is not _ABSENT}


_ABSENT = object()


def _document(*entries) -> str:
    return json.dumps({"keys": list(entries)})


def _rejected(data) -> InvalidTrustList:
    with pytest.raises(InvalidTrustList) as caught:
        TrustList.from_json(data)
    assert isinstance(caught.value, KeysError)
    assert str(caught.value) == f"invalid trust list: {caught.value.where}: {caught.value.reason}"
    return caught.value


# --- round trip and output ---------------------------------------------------


def test_round_trip():
    trust = TrustList(
        [
            _key(not_before=datetime(2025, 1, 1, 7, 30, tzinfo=ICT)),
            _key(
                KeyStatus.RETIRED,
                not_before=datetime(2024, 1, 1, tzinfo=UTC),
                not_after=datetime(2025, 6, 30, 12, 0, 0, 250_000, tzinfo=UTC),
            ),
            _key(KeyStatus.REVOKED, revoked_at=datetime(2025, 3, 1, tzinfo=UTC)),
        ]
    )
    assert TrustList.from_json(trust.to_json()) == trust
    assert TrustList.from_json(trust.to_json().encode()) == trust


def test_to_json_is_stable_sorted_and_indented():
    trust = TrustList([_key(), _key()])
    text = trust.to_json()
    assert text == trust.to_json()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True)


def test_to_jwk_members():
    key = _key(KeyStatus.REVOKED, revoked_at=datetime(2025, 3, 1, 8, tzinfo=ICT))
    assert key.to_jwk() == {
        **public_jwk(key.public_key),
        "kid": key.kid,
        "use": "sig",
        "alg": "EdDSA",
        "org": {"id": "42", "name": "Sở Nông nghiệp Hưng Yên"},
        "status": "revoked",
        "not_before": None,
        "not_after": None,
        "revoked_at": "2025-03-01T01:00:00Z",
    }


def test_order_of_keys_is_kept():
    keys = [_key() for _ in range(5)]
    assert TrustList(keys).keys == tuple(keys)
    assert TrustList.from_json(TrustList(keys).to_json()).keys == tuple(keys)


# --- what the parser accepts ---------------------------------------------------


def test_extra_members_are_ignored():
    entry = _entry(x5c=["..."], org={"id": "7", "name": "HTX", "website": "https://htx.vn"})
    text = json.dumps({"keys": [entry], "issuer": "https://tem.example.vn"})
    (key,) = TrustList.from_json(text).keys
    assert key.kid == entry["kid"]
    assert (key.org_id, key.org_name) == ("7", "HTX")


def test_missing_times_read_as_null():
    entry = _entry(not_before=_ABSENT, not_after=_ABSENT, revoked_at=_ABSENT)
    (key,) = TrustList.from_json(_document(entry)).keys
    assert key.not_before is key.not_after is key.revoked_at is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01T00:00:00Z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01t07:00:00z", datetime(2025, 1, 1, 7, tzinfo=UTC)),
        ("2025-01-01T07:00:00+07:00", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T00:00:00.5-00:00", datetime(2025, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)),
    ],
)
def test_rfc3339_times(text, expected):
    (key,) = TrustList.from_json(_document(_entry(not_before=text))).keys
    assert key.not_before == expected


def test_status_and_org_are_parsed():
    entry = _entry(status="revoked", revoked_at="2025-02-01T00:00:00Z")
    (key,) = TrustList.from_json(_document(entry)).keys
    assert key.status is KeyStatus.REVOKED
    assert key.revoked_at == datetime(2025, 2, 1, tzinfo=UTC)


def test_utf8_bom_and_empty_list_are_fine():
    assert TrustList.from_json(b'\xef\xbb\xbf{"keys": []}').keys == ()


# --- what the parser refuses ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("", "is not JSON"),
        ("not json", "is not JSON"),
        (b"\xff\xfe\x00\x89PNG\r\n", "is not UTF-8 text"),
        (b"\x00\x01\x02", "is not JSON"),
        ('{"keys": [], "keys": []}', "repeats the member 'keys'"),
        ('{"keys": [NaN]}', "NaN is not JSON"),
        ("[" * 100_000, "nested too deeply"),
        ("[]", 'must be a JSON object with a "keys" array'),
        ('"keys"', 'must be a JSON object with a "keys" array'),
        (None, "must be JSON text"),
    ],
)
def test_refuses_documents(data, reason):
    error = _rejected(data)
    assert error.where == "document"
    assert reason in error.reason


@pytest.mark.parametrize("keys", ["{}", "null", '"x"', "1"])
def test_refuses_keys_that_is_not_an_array(keys):
    assert _rejected(f'{{"keys": {keys}}}').where == "keys"


def test_refuses_a_missing_keys_member():
    assert _rejected('{"kty": "OKP"}').where == "keys"


def test_refuses_huge_numbers_with_a_clear_message():
    assert _rejected('{"keys": [' + "9" * 5000 + "]}").reason == "holds a number far too long"


_OTHER = Ed25519PrivateKey.generate().public_key()


@pytest.mark.parametrize(
    ("change", "where", "reason"),
    [
        ({"kty": "RSA"}, "kty", 'must be "OKP"'),
        ({"crv": "P-256"}, "crv", 'must be "Ed25519"'),
        ({"x": _ABSENT}, "x", "32-byte public key"),
        ({"x": b64url_encode(b"\x00" * 16)}, "x", "32-byte public key"),
        ({"x": 12}, "x", "32-byte public key"),
        ({"d": b64url_encode(b"\x00" * 32)}, "d", "private key material"),
        ({"kid": thumbprint(_OTHER)}, "kid", "does not match the key's thumbprint"),
        ({"kid": _ABSENT}, "kid", "does not match the key's thumbprint"),
        ({"kid": 7}, "kid", "does not match the key's thumbprint"),
        ({"status": "expired"}, "status", "must be one of active, retired, revoked"),
        ({"status": "ACTIVE"}, "status", "must be one of"),
        ({"status": _ABSENT}, "status", "must be one of"),
        ({"org": _ABSENT}, "org", 'must be an object with "id" and "name"'),
        ({"org": "HTX"}, "org", 'must be an object with "id" and "name"'),
        ({"org": {"name": "HTX"}}, "org.id", "must be a non-empty string"),
        ({"org": {"id": 7, "name": "HTX"}}, "org.id", "must be a non-empty string"),
        ({"org": {"id": "7", "name": " "}}, "org.name", "must be a non-empty string"),
        ({"not_before": "2025-01-01"}, "not_before", "RFC 3339"),
        ({"not_before": "2025-01-01T00:00:00"}, "not_before", "RFC 3339"),
        ({"not_before": "20250101T000000Z"}, "not_before", "RFC 3339"),
        ({"not_before": "2025-02-30T00:00:00Z"}, "not_before", "RFC 3339"),
        ({"not_before": 1735689600}, "not_before", "RFC 3339"),
        ({"not_after": "2024-01-01T00:00:00Z"}, "not_after", "is before not_before"),
        ({"revoked_at": "2025-02-01T00:00:00Z"}, "revoked_at", "status is active"),
    ],
)
def test_refuses_entries_naming_the_member(change, where, reason):
    # keys[1], so the message shows which entry it is.
    error = _rejected(_document(_entry(), _entry(**change)))
    assert error.where == f"keys[1].{where}"
    assert reason in error.reason


@pytest.mark.parametrize("entry", [1, "key", None, []])
def test_refuses_entries_that_are_not_objects(entry):
    assert _rejected(_document(_entry(), entry)).where == "keys[1]"


def test_refuses_the_same_key_twice():
    entry = _entry()
    error = _rejected(_document(_entry(), entry, {**entry, "status": "retired"}))
    assert (error.where, error.reason) == ("keys[2].kid", "repeats keys[1]")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(st.text() | st.binary())
def test_any_input_is_a_trust_list_or_a_trust_list_error(data):
    with contextlib.suppress(InvalidTrustList):
        TrustList.from_json(data)


@given(st.dictionaries(st.sampled_from(sorted(_entry())), _json))
def test_any_entry_members_give_a_trust_list_or_a_trust_list_error(changes):
    with contextlib.suppress(InvalidTrustList):
        TrustList.from_json(_document({**_entry(), **changes}))


# --- the plain constructor and the index -------------------------------------------


def test_candidates_are_found_by_prefix():
    first, second = _key(), _key()
    trust = TrustList([first, second])
    assert trust.candidates(first.prefix) == (first,)
    assert trust.candidates(second.prefix) == (second,)
    assert trust.candidates(b"\x00" * 8) == ()
    assert trust.candidates(b"") == ()


class _SharedPrefix(TrustedKey):
    """Stands in for a key whose thumbprint shares its first 8 bytes with another's.

    A real collision would take about 2**32 keys to find.
    """

    __slots__ = ()

    @property
    def prefix(self) -> bytes:
        return b"\x93gRg\xae\x15=\x84"


def _sharing_prefix() -> TrustedKey:
    key = _key()
    return _SharedPrefix(key.kid, key.public_key, key.org_id, key.org_name, key.status)


def test_keys_sharing_a_prefix_are_all_candidates():
    first, other, second = _sharing_prefix(), _key(), _sharing_prefix()
    trust = TrustList([first, other, second])
    assert trust.candidates(first.prefix) == (first, second)
    assert trust.candidates(other.prefix) == (other,)


def test_constructor_refuses_duplicates():
    key = _key()
    with pytest.raises(InvalidTrustList, match=r"keys\[1\]\.kid: repeats keys\[0\]"):
        TrustList([key, key])


def test_trust_lists_and_keys_are_hashable_values():
    key = _key()
    assert len({key, key}) == 1
    assert hash(TrustList([key])) == hash(TrustList([key]))


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"kid": "k2dSZ64VPYTd6Ht7LTorw_MKjmKgaY4hkQFF4-im6v0"}, "kid"),
        ({"org_id": ""}, "org.id"),
        ({"status": "active"}, "status"),
        ({"not_before": datetime(2025, 1, 1)}, "not_before"),
        ({"not_after": "2025-01-01T00:00:00Z"}, "not_after"),
        ({"revoked_at": datetime(2025, 1, 1, tzinfo=UTC)}, "revoked_at"),
    ],
)
def test_trusted_key_checks_its_invariants(fields, where):
    with pytest.raises(InvalidTrustList) as caught:
        _key(**fields)
    assert caught.value.where == where


def test_trusted_key_needs_an_ed25519_public_key():
    with pytest.raises(TypeError):
        _key(public_key=b"\x00" * 32)


# The namespaced trust member (version 2): written beside the version 1 names.


def test_the_trust_data_is_also_a_namespaced_set_member():
    from ocop.keys.trustlist import TRUST_MEMBER

    key = _key(KeyStatus.REVOKED, revoked_at=datetime(2025, 3, 1, tzinfo=UTC))
    document = json.loads(TrustList([key]).to_json())
    (jwk,) = document["keys"]
    namespaced = document[TRUST_MEMBER]
    assert namespaced["version"] == 2
    assert namespaced["keys"][key.kid] == {name: jwk[name] for name in namespaced["keys"][key.kid]}
    assert namespaced["keys"][key.kid]["status"] == "revoked"
    assert TrustList.from_json(json.dumps(document)) == TrustList([key])


def test_a_list_with_only_the_namespaced_member_reads_the_same():
    from ocop.keys.trustlist import TRUST_MEMBER

    key = _key(not_before=datetime(2025, 1, 1, tzinfo=UTC))
    document = json.loads(TrustList([key]).to_json())
    for name in ("org", "status", "not_before", "not_after", "revoked_at"):
        del document["keys"][0][name]
    assert TrustList.from_json(json.dumps(document)) == TrustList([key])
    assert TRUST_MEMBER.startswith("urn:uuid:")


def test_jwcrypto_keeps_the_namespaced_member_that_it_drops_from_each_key():
    jwk = pytest.importorskip("jwcrypto.jwk", reason="jwcrypto is a test extra")
    key = _key(KeyStatus.RETIRED)
    exported = jwk.JWKSet.from_json(TrustList([key]).to_json()).export(private_keys=False)
    assert "status" not in json.loads(exported)["keys"][0]
    assert TrustList.from_json(exported) == TrustList([key])


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"status": "revoked"}, "keys[0].status"),
        ({"org": {"id": "1", "name": "Another"}}, "keys[0].org"),
    ],
)
def test_the_two_places_must_agree(change, where):
    from ocop.keys.trustlist import TRUST_MEMBER

    key = _key()
    document = json.loads(TrustList([key]).to_json())
    document[TRUST_MEMBER]["keys"][key.kid].update(change)
    assert _rejected(json.dumps(document)).where == where


@pytest.mark.parametrize(
    "member",
    [
        [],
        {"version": 2},
        {"version": 3, "keys": {}},
        {"version": 2, "keys": {"not-a-listed-kid": {}}},
    ],
)
def test_a_bad_namespaced_member_is_refused(member):
    from ocop.keys.trustlist import TRUST_MEMBER

    document = json.loads(TrustList([_key()]).to_json())
    document[TRUST_MEMBER] = member
    assert _rejected(json.dumps(document)).where.startswith(TRUST_MEMBER)
