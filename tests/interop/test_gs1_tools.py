"""GS1's own JavaScript tools read our Digital Links and EPCIS documents.

Run when Node and the tools are here: ``npm ci`` (or ``npm install``) in this
folder installs GS1's digital-link.js and epcis2.js (pinned in package.json);
without them the tests are skipped, saying why. node_modules is never committed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ocop.trace.digital_link import DigitalLink
from ocop.trace.epcis import epcis_document, query_document
from ocop.trace.genealogy import events_touching
from ocop.trace.importer import load_sample
from ocop.trace.queries import find_lot

HERE = Path(__file__).parent
BASE = "https://tem.example.vn"

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.skipif(
        not (HERE / "node_modules" / "digital-link.js").is_dir()
        or not (HERE / "node_modules" / "epcis2.js").is_dir(),
        reason="GS1's tools are not installed: run `npm ci` in tests/interop",
    ),
]


def _check(**payload: list) -> dict:
    result = subprocess.run(
        ["node", str(HERE / "check.js")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)


def test_digital_link_js_accepts_our_links_and_agrees_on_check_digits():
    ours = [
        DigitalLink.from_path(p).uri(BASE)
        for p in (
            "/01/08936045120019",
            "/01/08936045120019/10/BC-2026-1115",
            "/01/08936045120019/10/BC-2026-1115/21/7-000001-4",
            "/01/09506000134352/10/ABC%2F1",
        )
    ]
    wrong = f"{BASE}/01/08936045120018"  # a check digit we refuse too
    answers = _check(digitalLinks=[*ours, wrong])["links"]
    assert [a["valid"] for a in answers] == [True, True, True, True, False], answers
    assert answers[2]["keyQualifiers"] == {"10": "BC-2026-1115", "21": "7-000001-4"}


def test_epcis2_js_validates_the_export_and_a_query_answer(session):
    load_sample(session)
    export = epcis_document(session, base_url=BASE)
    lot = find_lot(session, "BC-2026-1115")
    answer = query_document(events_touching(session, [lot.id], corrected_too=True), base_url=BASE)
    documents = json.loads(json.dumps([export, answer], default=str))
    results = _check(epcisDocuments=documents)["documents"]
    assert all(r["success"] for r in results), results


def test_epcis2_js_is_not_a_rubber_stamp(session):
    load_sample(session)
    broken = json.loads(json.dumps(epcis_document(session, base_url=BASE), default=str))
    broken["epcisBody"]["eventList"][0]["bizStep"] = "harvesting"
    del broken["epcisBody"]["eventList"][1]["eventTime"]
    (result,) = _check(epcisDocuments=[broken])["documents"]
    assert not result["success"] and result["errors"]
