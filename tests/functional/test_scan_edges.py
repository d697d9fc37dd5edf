"""The scan path tried as an attacker: PIN guessing, bad bodies, floods, stale caches, crashes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update

from ocop.keys.models import IssuerKey
from ocop.keys.trustlist import KeyStatus
from ocop.stamps.models import BatchStatus, StampBatch, StampScan
from ocop.trace.db import utcnow
from ocop.trace.models import Lot, Organisation, OrgKind, Recall
from ocop.web import create_app
from ocop.workflows.api_tokens import create_token

from .scanning import PHONE, Phone, demo_stamps

REDIS = "redis://127.0.0.1:6379/1"


@pytest.fixture
def stamps(app, runner):
    return demo_stamps(app, runner)


def _app(database_url, instance, monkeypatch, **settings):
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", "correct horse battery staple")
    config = {
        "database_url": database_url,
        "instance": instance,
        "secret_key": "test-secret",
        "rate_limit": None,
        "TESTING": True,
    }
    return create_app({**config, **settings})


@pytest.fixture
def limited(clean_database, database_url, instance, monkeypatch):
    """An app with its limits on: a large per-client budget, 1,500 codes a minute for bulk."""
    app = _app(
        database_url, instance, monkeypatch,
        rate_limit="10000/minute", bulk_limit="1500/minute", bulk_token_limit="3000/minute",
    )
    yield app
    app.extensions["ocop.db"].dispose()


# --- PINs ------------------------------------------------------------------


def test_ten_wrong_pins_lock_the_stamp_for_a_day_whichever_worker_answers(
    app, stamps, database_url, instance, monkeypatch
) -> None:
    second_worker = _app(database_url, instance, monkeypatch)
    try:
        stamp = stamps[0]
        url = f"/V/{stamp.token.encode()}/pin"
        workers = [app.test_client(), second_worker.test_client()]
        answers = [
            workers[n % 2].post(url, data={"pin": f"{n:08d}"}, environ_base={
                "REMOTE_ADDR": f"10.{n}.0.1"  # and from ten clients: the budget is the stamp's
            })
            for n in range(10)
        ]
        assert [a.status_code for a in answers[:9]] == [400] * 9
        assert "Còn 1 lần nhập" in answers[8].get_data(as_text=True)
        locked = answers[9]
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 86000
        assert "tạm khoá nhập mã PIN" in locked.get_data(as_text=True)
        right = workers[1].post(url, data={"pin": stamp.pin})
        assert right.status_code == 429  # not even compared while locked
        with app.extensions["ocop.db"].transaction() as session:
            row = session.get(StampScan, (stamp.serial.batch, stamp.serial.index))
            assert row.pin_claims == 0
        # Another stamp's budget is its own.
        other = stamps[1]
        ok = app.test_client().post(f"/V/{other.token.encode()}/pin", data={"pin": other.pin})
        assert ok.status_code == 200
    finally:
        second_worker.extensions["ocop.db"].dispose()


def test_pin_for_junk_or_a_stamp_without_pin_is_404(app, stamps) -> None:
    client = app.test_client()
    assert client.post("/V/junk/pin", data={"pin": "1"}).status_code == 404
    assert client.post("/V/" + "A" * 130 + "/pin", data={"pin": "1"}).status_code == 404


# --- what must show at once ---------------------------------------------------


@pytest.mark.parametrize("change", ["recall", "void", "revoke_key"])
def test_a_recall_void_or_revocation_shows_on_the_very_next_scan(app, stamps, change) -> None:
    phone = Phone(app, "113.160.1.1")
    stamp = stamps[2]
    for page in (True, False):  # both kept (page and JSON) before the change
        assert phone.scan(stamp, page=page).status_code == 200
    with app.extensions["ocop.db"].transaction() as session:
        batch = session.get(StampBatch, stamp.serial.batch)
        if change == "recall":
            notice = "Thu hồi: nhiễm ẩm"
            session.add(Recall(lot_id=batch.lot_id, notice=notice, recalled_at=utcnow()))
        elif change == "void":
            session.execute(
                update(StampBatch).where(StampBatch.id == batch.id).values(
                    status=BatchStatus.VOIDED, void_reason="in trùng"
                )
            )
        else:
            session.execute(
                update(IssuerKey).where(IssuerKey.id == batch.key_id).values(
                    status=KeyStatus.REVOKED, revoked_at=utcnow()
                )
            )
    expected = {"recall": "recalled", "void": "revoked", "revoke_key": "revoked"}[change]
    assert phone.scan(stamp).json["status"] == expected
    page = phone.scan(stamp, page=True).get_data(as_text=True)
    assert f"verdict-{expected}" in page
    if change == "recall":
        assert "Thu hồi: nhiễm ẩm" in page


# --- bad bodies -----------------------------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize("where", ["top", "codes"])
def test_json_nested_any_depth_is_a_400(app, stamps, depth, where) -> None:
    nested = "[" * depth + "]" * depth
    body = nested if where == "top" else '{"codes": ' + nested + "}"
    client = app.test_client()
    with app.extensions["ocop.db"].transaction() as session:
        org = session.scalars(
            select(Organisation).where(Organisation.kind == OrgKind.DISTRIBUTOR)
        ).first()
        _token, text = create_token(session, org, "Kho", created_by="test")
    for url, headers in (
        ("/api/v1/verify", {}),
        ("/api/v1/receiving", {"Authorization": f"Bearer {text}"}),
    ):
        response = client.post(url, data=body, content_type="application/json", headers=headers)
        assert response.status_code == 400, (url, response.status_code)
        assert response.mimetype == "application/problem+json"


def test_oversized_and_odd_bodies_answer_4xx(app, stamps) -> None:
    client = app.test_client()
    huge = client.post(
        "/api/v1/verify", data=b"[" * (3 * 1024 * 1024), content_type="application/json"
    )
    assert huge.status_code == 413
    for body in (b"\xff\xfe\x00", b'{"codes": ["' + b"A" * 3000 + b'"]}', b"1e999999"):
        response = client.post("/api/v1/verify", data=body, content_type="application/json")
        assert 400 <= response.status_code < 500, body[:20]
    form = client.post(f"/V/{stamps[0].token.encode()}/report", data={"message": "x" * 3_000_000})
    assert form.status_code == 413


def test_fake_reports_only_for_codes_that_parse_as_stamps(app, stamps) -> None:
    client = app.test_client()
    for path in ("junk", "<script>", "A" * 129, "V/" * 50, "%00"):
        response = client.post(f"/V/{path}/report", data={"message": "hàng giả"})
        assert response.status_code == 404, path
    forged = bytearray(stamps[0].token.to_bytes())
    forged[-1] ^= 1
    from ocop.stamps.token import base32

    accepted = client.post(f"/V/{base32(bytes(forged))}/report", data={"message": "mã lạ"})
    assert accepted.status_code == 201
    page = Phone(app, "1.1.1.1").scan(stamps[0], page=True).get_data(as_text=True)
    assert "/report" in page
    junk = app.test_client().get("/V/junk", headers={"User-Agent": PHONE}).get_data(as_text=True)
    assert "/report" not in junk  # no form to report what is not a stamp


def test_eight_scans_at_once_without_cookies_all_answer_and_count(app, stamps) -> None:
    stamp = stamps[3]

    def scan(n: int) -> int:
        return Phone(app, f"113.170.{n}.1", cookies=False).scan(stamp).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(scan, range(32)))
    assert statuses == [200] * 32
    with app.extensions["ocop.db"].transaction() as session:
        row = session.get(StampScan, (stamp.serial.batch, stamp.serial.index))
    assert (row.count, row.sightings) == (32, 32)


# --- limits that charge by cost ---------------------------------------------------


def _token(app) -> str:
    with app.extensions["ocop.db"].transaction() as session:
        org = session.scalars(
            select(Organisation).where(Organisation.kind == OrgKind.DISTRIBUTOR)
        ).first()
        return create_token(session, org, f"Kho {uuid.uuid4().hex[:6]}", created_by="test")[1]


def test_bulk_is_charged_per_code_and_tokens_have_their_own_budget(limited) -> None:
    stamps = demo_stamps(limited, limited.test_cli_runner())
    codes = [s.token.encode() for s in stamps] * 84  # 1,008 codes
    client = limited.test_client()
    assert client.post("/api/v1/verify", json={"codes": codes[:1000]}).status_code == 200
    assert client.post("/api/v1/verify", json={"codes": codes[:400]}).status_code == 200
    refused = client.post("/api/v1/verify", json={"codes": codes[:200]})  # 1,600 > 1,500
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert "Retry-After" in refused.headers
    # A refused request is charged too: hammering keeps a client out.
    assert client.post("/api/v1/verify", json={"codes": codes[:1]}).status_code == 429
    # Single scans are not bulk codes: they go on.
    assert Phone(limited, "127.0.0.1").scan(stamps[0]).status_code == 200
    # A distributor's token: its own, larger budget, whatever the client's.
    token = {"Authorization": f"Bearer {_token(limited)}"}
    for _ in range(3):
        ok = client.post("/api/v1/verify", json={"codes": codes[:1000]}, headers=token)
        assert ok.status_code == 200
    spent = client.post("/api/v1/verify", json={"codes": codes[:10]}, headers=token)
    assert spent.status_code == 429
    # A made-up token buys nothing: it is charged as its client (spent here), then 401.
    bogus = {"Authorization": "Bearer ocop_" + "x" * 40}
    made_up = client.post("/api/v1/verify", json={"codes": codes[:1]}, headers=bogus)
    assert made_up.status_code == 429
    elsewhere = client.post(
        "/api/v1/verify", json={"codes": codes[:1]}, headers=bogus,
        environ_base={"REMOTE_ADDR": "192.0.2.9"},
    )
    assert elsewhere.status_code == 401


def test_limits_are_shared_across_workers_through_redis(
    clean_database, database_url, instance, monkeypatch
) -> None:
    redis = pytest.importorskip("redis")
    server = redis.Redis.from_url(REDIS, socket_timeout=1)
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    prefix = f"ocop-test-{uuid.uuid4().hex}"
    workers = [
        _app(
            database_url, instance, monkeypatch, rate_limit="5/minute",
            rate_limit_storage=REDIS, RATELIMIT_KEY_PREFIX=prefix,
        )
        for _ in range(2)
    ]
    try:
        clients = [w.test_client() for w in workers]
        statuses = [clients[n % 2].get("/api/v1/verify/junk").status_code for n in range(7)]
        assert statuses == [200] * 5 + [429] * 2  # one budget for both, not five each
        assert server.keys(f"*{prefix}*")  # the budget lives in Redis
    finally:
        for key in server.scan_iter(f"*{prefix}*"):
            server.delete(key)
        for worker in workers:
            worker.extensions["ocop.db"].dispose()


def test_memory_storage_counts_without_a_thread_per_request(limited) -> None:
    import threading

    client = limited.test_client()
    client.get("/api/v1/verify/junk")
    before = threading.active_count()
    for _ in range(50):
        assert client.get("/api/v1/verify/junk").status_code == 200
    assert threading.active_count() <= before


# --- durability -----------------------------------------------------------------


def test_a_counted_scan_survives_the_web_process_being_killed(app, stamps, database_url) -> None:
    stamp = stamps[4]
    script = textwrap.dedent(
        f"""
        import datetime as dt, os, signal, sys
        from ocop.stamps.scans import ScanCounter, ScanParams
        counter = ScanCounter({database_url!r})
        counted = counter.count({stamp.serial.batch}, {stamp.serial.index},
                                ScanParams("d", "n", dt.datetime.now(dt.UTC)))
        print(counted.summary.count, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no close, no atexit
        """
    )
    for expected in (1, 2):
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert result.returncode == -9 and result.stdout.strip() == str(expected), result.stderr
    with app.extensions["ocop.db"].transaction() as session:
        row = session.get(StampScan, (stamp.serial.batch, stamp.serial.index))
        assert row.count == 2
        lots = session.scalar(select(func.count()).select_from(Lot))
    assert lots and json.dumps(row.count)
