"""The transparency log as the public, auditors and ``ocop log verify`` see it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from ocop.keys.errors import LogProblem
from ocop.keys.log_cli import run_verify
from ocop.keys.logaudit import audit, log_public_key
from ocop.keys.loghead import SignedTreeHead, b64, unb64
from ocop.keys.merkle import MemoryTree
from ocop.keys.models import LogLeaf
from ocop.keys.transparency import append, key_fields
from ocop.stamps import StampBatch
from ocop.trace.db import utcnow
from ocop.web.cli import main

from .scanning import PHONE

DOC = Path(__file__).parents[2] / "docs" / "transparency-log.md"


class ClientSource:
    """The log over the test client, as `ocop log verify` reads it over HTTP."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, path: str) -> Any:
        answer = self.client.get(path)
        if answer.status_code != 200:
            raise LogProblem("%(url)s answered %(status)s", url=path, status=answer.status_code)
        return answer.json


def _doc_snippet() -> Any:
    text = DOC.read_text(encoding="utf-8")
    code = re.search(r"<!-- snippet:check-proof -->\n```python\n(.*?)```", text, re.S)
    assert code is not None
    assert len(code.group(1).splitlines()) <= 25
    scope: dict[str, Any] = {}
    exec(code.group(1), scope)
    return scope["check"]


def _verdict(client: FlaskClient, stamp: Any) -> dict[str, Any]:
    return client.get(f"/api/v1/verify/{stamp.token.encode()}", headers={"User-Agent": PHONE}).json


def test_verify_answer_proves_the_batch_in_a_signed_head(client, demo) -> None:
    verdict = _verdict(client, demo[0])
    assert verdict["status"] == "genuine"
    log = verdict["log"]
    head = SignedTreeHead.from_json(log["sth"])
    head.verify(log_public_key(client.get("/log/v1/key").json))
    assert json.loads(unb64(log["leaf"], "leaf"))["batch"] == demo[0].serial.batch
    assert _doc_snippet()(verdict)
    # Tampered: another leaf, another path, another root: the ~20 lines refuse each.
    check = _doc_snippet()
    for member, value in (
        ("leaf", b64(json.dumps({"batch": demo[0].serial.batch}).encode())),
        ("inclusion", [*log["inclusion"], log["sth"]["root_hash"]]),
        ("leaf_index", log["leaf_index"] + 1),
    ):
        with pytest.raises(AssertionError):
            check({**verdict, "log": {**log, member: value}})
    assert (
        client.get(f"/V/{demo[0].token.encode()}", headers={"Accept": "application/json"}).json[
            "log"
        ]
        == log
    )


def test_heads_grow_consistently_and_leaves_rebuild_the_root(client, demo, app) -> None:
    source = ClientSource(client)
    key = log_public_key(client.get("/log/v1/key").json)
    first = audit(source, key, leaves=True).head
    assert first.head.size >= 2  # the demo's key and its batch
    with app.extensions["ocop.db"].transaction() as session:
        for n in range(5):
            append(
                session,
                key_fields(
                    event="registered", kid=f"k{n}", organisation=1, public_key="x", at=utcnow()
                ),
            )
    second = audit(source, key, seen=first, leaves=True)
    assert second.head.head.size == first.head.size + 5
    assert any("consistent" in note for note in second.notes)
    # A head the log key did not sign, and a past the log rewrote, are refused.
    forged = SignedTreeHead(first.head, first.kid, bytes(64))
    with pytest.raises(LogProblem, match="not signed by the log key"):
        audit(source, key, head=forged)
    rows = client.get(f"/log/v1/leaves?start=0&end={second.head.head.size}").json["leaves"]
    tree = MemoryTree()
    for row in rows:
        tree.append(unb64(row["leaf"], "leaf"))
    assert tree.root() == second.head.head.root
    with app.extensions["ocop.db"].transaction() as session:
        session.execute(LogLeaf.__table__.update().where(LogLeaf.index == 0).values(leaf=b"{}"))
    with pytest.raises(LogProblem, match="do not rebuild the root"):
        audit(source, key, leaves=True)


def test_log_endpoints_answer_bad_questions_with_400_and_are_open_to_all_sites(
    client, demo
) -> None:
    sth = client.get("/log/v1/sth", headers={"Origin": "https://shop.example"})
    assert sth.headers["Access-Control-Allow-Origin"] == "*"
    size = sth.json["tree_size"]
    for path in (
        "/log/v1/consistency?first=0&second=1",
        f"/log/v1/consistency?first=2&second={size + 1}",
        f"/log/v1/consistency?first={size}&second=1",
        "/log/v1/consistency?first=x&second=1",
        f"/log/v1/inclusion?index={size}",
        "/log/v1/inclusion?index=-1",
        "/log/v1/inclusion?index=99999999999999999999999",
        "/log/v1/leaves?start=3&end=1",
        "/log/v1/leaves",
        "/log/v1/consistency?X=%C2%AD%00&first=3",  # what the guards refuse is problem+json too
    ):
        answer = client.get(path)
        assert answer.status_code == 400, path
        assert answer.mimetype == "application/problem+json"
    proof = client.get(f"/log/v1/inclusion?index=0&size={size}").json
    assert proof["tree_size"] == size and proof["leaf_index"] == 0
    assert len(client.get("/log/v1/leaves?start=0&end=5000").json["leaves"]) == size


def test_a_signed_batch_missing_from_the_log_is_not_genuine(client, demo, app) -> None:
    with app.extensions["ocop.db"].transaction() as session:
        batch = session.scalars(select(StampBatch)).one()
        session.execute(
            LogLeaf.__table__.update().where(LogLeaf.batch_id == batch.id).values(batch_id=None)
        )
    app.extensions["ocop.facts"].clear()
    verdict = _verdict(client, demo[1])
    assert verdict["status"] == "invalid"
    assert verdict["reasons"] == ["not_in_log"]
    assert "log" not in verdict and "product" not in verdict


def test_ocop_log_verify_keeps_state_and_checks_a_stamp(client, demo, app, tmp_path) -> None:
    source = ClientSource(client)
    state = tmp_path / "seen.json"
    saved = tmp_path / "verdict.json"
    saved.write_text(json.dumps(_verdict(client, demo[2])))
    notes = run_verify(
        source,
        key_file=None,
        sth_file=None,
        state=str(state),
        leaves=True,
        verdict=json.loads(saved.read_text()),
    )
    assert state.exists() and any("stamp's batch is in the log" in n for n in notes)
    notes = run_verify(
        source, key_file=None, sth_file=None, state=str(state), leaves=False, verdict=None
    )
    assert any("consistent" in n for n in notes)
    # A state file from another log (a different root at the same size) is refused.
    other = json.loads(state.read_text())
    other["root_hash"] = b64(bytes(32))
    state.write_text(json.dumps(other))
    with pytest.raises(LogProblem, match="not signed"):
        run_verify(
            source, key_file=None, sth_file=None, state=str(state), leaves=False, verdict=None
        )
    verdict = json.loads(saved.read_text())
    verdict["log"]["inclusion"][0] = b64(bytes(32))
    with pytest.raises(LogProblem, match="inclusion proof"):
        run_verify(source, key_file=None, sth_file=None, state=None, leaves=False, verdict=verdict)


def test_ocop_log_verify_command_says_why_it_fails(runner, demo, tmp_path) -> None:
    broken = tmp_path / "v.json"
    broken.write_text(json.dumps({"status": "genuine", "batch": 1}))
    result = runner.invoke(
        main, ["log", "verify", "--url", "http://127.0.0.1:9", "--verify-json", str(broken)]
    )
    assert result.exit_code == 1
    assert "FAILED" in result.output


def test_demo_links_answer_genuine_and_its_inert_link_says_so(client, demo, runner) -> None:
    result = runner.invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    links = re.findall(r"https?://\S+/V/\S+", result.output, re.I)
    inert = re.search(r"never activated.*?(https?://\S+)", result.output, re.I)
    assert inert is not None and len(links) >= 5
    path = lambda url: "/V/" + url.rsplit("/V/", 1)[1]  # noqa: E731
    for url in links[:3]:
        assert client.get(path(url), headers={"Accept": "application/json"}).json["status"] == (
            "genuine"
        )
    answer = client.get(path(inert.group(1)), headers={"Accept": "application/json"}).json
    assert answer["status"] == "suspect" and answer["reasons"] == ["not_activated"]
    assert "/log/v1/sth" in result.output
