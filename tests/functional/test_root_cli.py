"""``ocop root`` ceremonies, the signed trust list over HTTP, and ``ocop stamps verify``
against it: real database, real key files, real signatures."""

from __future__ import annotations

import base64
import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from ocop.keys.errors import KeyNotCertified
from ocop.keys.models import SignedTrustListRow
from ocop.keys.publishing import signed_trust_list
from ocop.keys.signedlist import verify_signed_trust_list
from ocop.trace.db import utcnow
from ocop.web.cli import main

from .conftest import TEST_PASSPHRASE


@pytest.fixture
def ocop(runner):
    def run(*args: str, code: int = 0):
        result = runner.invoke(main, list(args))
        assert result.exit_code == code, result.output
        assert TEST_PASSPHRASE not in result.output
        assert "Traceback" not in result.output
        return result

    return run


def _root_kid(demo_output_or_db, app) -> str:
    from ocop.keys.root import current_root

    with app.extensions["ocop.db"].transaction() as session:
        return current_root(session).kid


def _payload(document: str) -> dict:
    part = document.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_the_demo_serves_a_signed_list_that_verifies_against_its_root(client, demo, app):
    root = _root_kid(None, app)
    response = client.get("/.well-known/ocop-trust.jws", headers={"Origin": "https://shop.vn"})
    assert response.status_code == 200
    assert response.mimetype == "application/jose"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    document = response.get_data(as_text=True)
    verified = verify_signed_trust_list(document, [root], utcnow())
    assert demo[0].token.verify(verified.trust.keys[0].public_key)
    # The same list again: same sequence, and a conditional request costs nothing.
    again = client.get("/.well-known/ocop-trust.jws", headers={"If-None-Match": etag})
    assert again.status_code == 304
    # The old JSON list is still there, unchanged in form.
    assert client.get("/.well-known/ocop-trust.json").json["keys"]


def test_without_a_root_the_signed_list_is_a_clear_404(client, app, ocop):
    ocop("init")
    response = client.get("/.well-known/ocop-trust.jws?lang=en")
    assert response.status_code == 404
    assert "ocop root init" in response.json["detail"]


def test_root_ceremonies_end_to_end(ocop, app, client, tmp_path):
    ocop("init")
    said = ocop("root", "init").output
    root = said.split("Pin this root thumbprint in verifiers: ")[1].split()[0]
    # Never overwritten.
    assert "never overwritten" in ocop("root", "init", code=1).output
    # Registered but not certified: cannot sign once a root exists.
    keys = json.loads(ocop("keys", "list", "--json").output)["keys"]
    kid = keys[0]["kid"]
    from ocop.keys.registry import active_key, resolve_org

    with app.extensions["ocop.db"].transaction() as session, pytest.raises(KeyNotCertified):
        active_key(session, resolve_org(session, None))
    refused = client.get("/.well-known/ocop-trust.jws?lang=en")
    assert "no list-signing key" in refused.json["detail"]
    vietnamese = client.get("/.well-known/ocop-trust.jws")
    assert "khoá ký danh sách" in vietnamese.json["detail"]
    ocop("root", "certify", "--list-signer")
    out = tmp_path / "cert.jws"
    assert "Certified" in ocop("root", "certify", "--out", str(out), "--", kid).output
    assert out.read_text().count(".") == 2
    assert "certified already" in ocop("root", "certify", "--all").output
    ocop("root", "certify", code=2)
    first = client.get("/.well-known/ocop-trust.jws").get_data(as_text=True)
    verified = verify_signed_trust_list(first, [root], utcnow())
    assert [k.kid for k in verified.trust.keys] == [kid]
    # Revocation: a new list, a higher sequence, the key revoked by the root's word.
    ocop("root", "revoke", "--reason", "lost laptop", "--", kid)
    second = client.get("/.well-known/ocop-trust.jws").get_data(as_text=True)
    verified2 = verify_signed_trust_list(second, [root], utcnow(), last_sequence=verified.sequence)
    assert verified2.sequence > verified.sequence
    assert verified2.trust.keys[0].status == "revoked"
    assert _payload(second)["revocations"]
    # Rotation: a verifier pinned to the old root moves to the new one.
    ocop("root", "rotate")
    third = client.get("/.well-known/ocop-trust.jws").get_data(as_text=True)
    verified3 = verify_signed_trust_list(third, [root], utcnow())
    assert verified3.root_kid != root
    assert verified3.trust.keys[0].status == "revoked"


def test_stamps_verify_offline_with_a_signed_list(ocop, demo, app, tmp_path):
    root = _root_kid(None, app)
    path = tmp_path / "list.jws"
    ocop("root", "signed-list", "--out", str(path))
    url = demo[0].url
    result = ocop("stamps", "verify", url, "--trust-list", str(path), "--root", root, "--json")
    answer = json.loads(result.output)
    assert answer["status"] == "genuine"
    assert answer["trust_list"]["freshness"] == "fresh"
    forged = url[:-1] + ("A" if url[-1] != "A" else "B")
    assert json.loads(
        ocop("stamps", "verify", forged, "--trust-list", str(path), "--root", root, "--json",
             code=1).output
    )["status"] == "invalid"
    wrong_root = "k2dSZ64VPYTd6Ht7LTorw_MKjmKgaY4hkQFF4-im6v0"
    refused = ocop("stamps", "verify", url, "--trust-list", str(path), "--root", wrong_root, code=2)
    assert "pinned" in refused.output
    path.write_text(path.read_text()[:-5] + "AAAA\n")
    assert "Error:" in ocop(
        "stamps", "verify", url, "--trust-list", str(path), "--root", root, code=2
    ).output


def test_a_stale_list_is_used_with_a_warning_by_the_cli(ocop, demo, app, tmp_path):
    root = _root_kid(None, app)
    old = utcnow() - dt.timedelta(days=3)
    with app.extensions["ocop.db"].transaction() as session:
        document = signed_trust_list(
            session, app.config["OCOP"].keystore(), now=old, validity=dt.timedelta(hours=24)
        ).document
    path = tmp_path / "stale.jws"
    path.write_text(document)
    answer = json.loads(
        ocop("stamps", "verify", demo[0].url, "--trust-list", str(path), "--root", root,
             "--json").output
    )
    assert answer["trust_list"]["freshness"] == "stale"
    assert "due for renewal" in answer["warning"]


def test_eight_processes_renewing_at_once_keep_one_growing_sequence(demo, app):
    database = app.extensions["ocop.db"]
    keystore = app.config["OCOP"].keystore()
    later = utcnow() + dt.timedelta(days=2)

    def renew(_):
        with database.transaction() as session:
            return signed_trust_list(session, keystore, now=later).sequence

    with ThreadPoolExecutor(8) as pool:
        sequences = set(pool.map(renew, range(8)))
    with database.transaction() as session:
        count = session.scalar(select(func.count()).select_from(SignedTrustListRow))
        top = session.scalar(select(func.max(SignedTrustListRow.sequence)))
    assert top in sequences
    assert count == top  # no gap, no duplicate: 1..top


def test_a_list_signer_that_cannot_be_unlocked_is_a_503_that_names_no_file(
    client, demo, monkeypatch
):
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", "not the passphrase at all")
    response = client.get("/.well-known/ocop-trust.jws?lang=en")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "instance" not in response.get_data(as_text=True)
    assert "passphrase" not in response.get_data(as_text=True)
