"""GS1 Digital Link paths: GS1's own examples and what must be refused."""

from __future__ import annotations

import pytest

from ocop.trace.digital_link import DigitalLink
from ocop.trace.errors import InvalidDigitalLink

# GS1 Digital Link standard 1.x and GS1's DigitalLinkDocs: the fictitious
# Dal Giardino risotto rice, 09506000134352, with lot ABC123 and serial 12345.
GS1_GTIN = "09506000134352"


@pytest.mark.parametrize(
    ("path", "lot", "serial"),
    [
        (f"/01/{GS1_GTIN}", None, None),
        (f"/01/{GS1_GTIN}/10/ABC123", "ABC123", None),
        (f"/01/{GS1_GTIN}/10/ABC123/21/12345", "ABC123", "12345"),
        (f"/01/{GS1_GTIN}/21/12345", None, "12345"),
        ("/01/9506000134352/10/ABC%2F1", "ABC/1", None),  # GTIN-13, lot with a slash
    ],
)
def test_gs1_examples_parse(path, lot, serial):
    link = DigitalLink.from_path(path)
    assert link.gtin.digits == GS1_GTIN and link.lot == lot and link.serial == serial
    assert DigitalLink.from_path(link.path) == link


@pytest.mark.parametrize(
    "path",
    [
        "/01/09506000134353",  # wrong check digit
        "/01/950600013435",  # 12 digits, wrong check digit
        "/01/abc",
        "/01",
        "/414/9506000134352",
        f"/01/{GS1_GTIN}/21/1/10/2",  # qualifiers out of order
        f"/01/{GS1_GTIN}/10/1/10/2",
        f"/01/{GS1_GTIN}/22/1",
        f"/01/{GS1_GTIN}/10/" + "A" * 21,
        f"/01/{GS1_GTIN}/10/%C3%A1",  # outside character set 82
        f"/01/{GS1_GTIN}/10/%FF",
        f"/01/{GS1_GTIN}/10/",
        f"/01/{GS1_GTIN}/10/a/21/b/99/c/7",
    ],
)
def test_malformed_paths_are_refused_with_a_reason(path):
    with pytest.raises(InvalidDigitalLink) as caught:
        DigitalLink.from_path(path)
    assert str(caught.value)
