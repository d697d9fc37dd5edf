"""The GS1 Digital Link resolver on the demo's records (GS1 Digital Link 1.4, chapter 7)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from ocop.stamps import Serial, StampBatch
from ocop.web.cli import main

GTIN = "08936045120019"


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    with app.extensions["ocop.db"].transaction() as session:
        batch = session.scalars(select(StampBatch)).one()
        return {"lot": batch.lot.code, "batch": batch.id, "count": batch.count,
                "product": batch.lot.product.code, "gtin": batch.lot.product.gtin}


def test_gtin_redirects_307_to_the_product_page(client, demo):
    for path in (f"/01/{demo['gtin']}", f"/01/{demo['gtin'].lstrip('0')}"):
        response = client.get(path)
        assert response.status_code == 307
        assert response.headers["Location"].endswith(f"/p/products/{demo['product']}")
        assert 'rel="linkset"' in response.headers["Link"]


def test_lot_and_serial_resolve(client, demo):
    serial = Serial(demo["batch"], demo["count"] - 1)
    for path in (
        f"/01/{demo['gtin']}/10/{demo['lot']}",
        f"/01/{demo['gtin']}/10/{demo['lot']}/21/{serial}",
        f"/01/{demo['gtin']}/21/{serial}",
    ):
        response = client.get(path)
        assert response.status_code == 307, (path, response.get_data(as_text=True))
        # A serial never turns into a token: that would mint stamps for anyone counting up.
        assert "/V/" not in response.headers["Location"].upper()


@pytest.mark.parametrize(
    "tail",
    [
        "/10/NO-SUCH-LOT",
        "/21/{batch}-999999-0",
        "/10/{lot}/21/99999-000001-0",
    ],
)
def test_parts_that_name_nothing_are_404(client, demo, tail):
    path = f"/01/{demo['gtin']}" + tail.format(**demo)
    assert client.get(path).status_code == 404


def test_an_unknown_gtin_is_404_and_a_bad_check_digit_400(client, demo):
    assert client.get("/01/09506000134352").status_code == 404
    bad = client.get("/01/08936045120018", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "số kiểm tra" in bad.get_json()["detail"]
    english = client.get(
        "/01/08936045120018", headers={"Accept": "application/json", "Accept-Language": "en"}
    )
    assert english.status_code == 400 and "check digit" in english.get_json()["detail"]


def test_link_type_all_is_an_rfc_9264_linkset(client, demo):
    response = client.get(f"/01/{demo['gtin']}/10/{demo['lot']}?linkType=all")
    assert response.status_code == 200
    assert response.mimetype == "application/linkset+json"
    (context,) = json.loads(response.data)["linkset"]
    assert context["anchor"].endswith(f"/01/{demo['gtin']}/10/{demo['lot']}")
    for relation, targets in context.items():
        if relation.startswith("https://gs1.org/voc/"):
            assert targets and all("href" in t for t in targets)
    assert "https://gs1.org/voc/pip" in context
    assert "https://gs1.org/voc/certificationInfo" in context
    epcis = context["https://gs1.org/voc/epcis"][0]["href"]
    assert "/api/v1/epcis/events?lot=" in epcis
    accept = client.get(f"/01/{demo['gtin']}", headers={"Accept": "application/linkset+json"})
    assert accept.status_code == 200 and accept.mimetype == "application/linkset+json"


def test_link_type_selects_a_link_and_unknown_falls_back_to_default(client, demo):
    cert = client.get(f"/01/{demo['gtin']}?linkType=gs1:certificationInfo")
    assert cert.status_code == 307 and "/p/certificates/" in cert.headers["Location"]
    full = client.get(f"/01/{demo['gtin']}?linkType=https://gs1.org/voc/certificationInfo")
    assert full.headers["Location"] == cert.headers["Location"]
    unknown = client.get(f"/01/{demo['gtin']}?linkType=gs1:nutritionalInfo")
    assert unknown.status_code == 307 and "/p/products/" in unknown.headers["Location"]


def test_head_and_cors_preflight(client, demo):
    assert client.head(f"/01/{demo['gtin']}").status_code == 307
    preflight = client.options(
        f"/01/{demo['gtin']}",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_the_resolver_describes_itself(client):
    response = client.get("/.well-known/gs1resolver")
    assert response.status_code == 200
    body = response.get_json()
    assert body["supportedPrimaryKeys"] == ["01"]
    assert body["supportedLinkType"][0]["prefix"] == "gs1:"
    assert body["resolverRoot"].startswith("http")
