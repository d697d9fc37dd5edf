"""The catalogue's queries: what is listed, how it is found, where it is sold."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ocop.trace.catalogue import (
    CatalogueQuery,
    catalogue_facets,
    catalogue_product,
    like_pattern,
    producer_listing,
    search_catalogue,
    sitemap_entries,
)
from ocop.trace.db import utcnow, vietnam_today
from ocop.trace.errors import CatalogueQueryRefused, NotFound
from ocop.trace.models import (
    Address,
    Certification,
    CertStatus,
    Facility,
    FacilityKind,
    Organisation,
    OrgKind,
    Product,
    Scheme,
)
from tests.factories import organisation

TODAY = vietnam_today()
_n = iter(range(1, 10**6))


def product(
    session: Session,
    name: str,
    *,
    stars: int | None = 4,
    status: CertStatus = CertStatus.VALID,
    lapsed: bool = False,
    producer: Organisation | None = None,
    sector: str | None = "Thực phẩm",
    approved: bool = True,
) -> Product:
    n = next(_n)
    producer = producer or organisation(session)
    item = Product(code=f"CAT{n}", producer=producer, name=name, sector=sector, approved=approved)
    session.add(item)
    if stars is not None:
        start = TODAY - dt.timedelta(days=1200 if lapsed else 100)
        session.add(
            Certification(
                scheme=Scheme.OCOP, number=f"CAT-OCOP-{n}", product=item, stars=stars,
                issuing_body="UBND tỉnh", valid_from=start,
                valid_until=start + dt.timedelta(days=1095), status=status,
            )
        )  # fmt: skip
    session.flush()
    return item


def search(session: Session, **params: str) -> list[str]:
    page = search_catalogue(session, CatalogueQuery.parse(params), TODAY)
    return [e.name for e in page.entries]


def test_lists_only_products_with_a_valid_certificate(session: Session) -> None:
    product(session, "Bánh cáy")
    product(session, "Chè lapsed", lapsed=True)
    product(session, "Chè revoked", status=CertStatus.REVOKED)
    product(session, "Chè uncertified", stars=None)
    product(session, "Chè unapproved", approved=False)
    assert search(session) == ["Bánh cáy"]


def test_lapsed_products_are_shown_only_on_request_and_never_as_certified(
    session: Session,
) -> None:
    product(session, "Bánh cáy")
    product(session, "Chè lapsed", lapsed=True)
    page = search_catalogue(session, CatalogueQuery.parse({"lapsed": "1"}), TODAY)
    by_name = {e.name: e for e in page.entries}
    assert set(by_name) == {"Bánh cáy", "Chè lapsed"}
    assert by_name["Bánh cáy"].certified
    lapsed = by_name["Chè lapsed"]
    assert not lapsed.certified
    assert lapsed.ocop.status is CertStatus.EXPIRED
    # A star filter means certified: the lapsed product never matches one.
    assert search(session, lapsed="1", stars="4") == ["Bánh cáy"]


@pytest.mark.parametrize(
    "asked", ["banh cay", "BANH CAY", "Bánh Cáy", "cay banh", "cáy", "bánh  cáy"]
)
def test_search_ignores_diacritics_case_and_word_order(session: Session, asked: str) -> None:
    product(session, "Bánh cáy làng Nguyễn")
    product(session, "Bánh đa sợi")
    assert search(session, q=asked) == ["Bánh cáy làng Nguyễn"]


def test_search_folds_d_with_stroke(session: Session) -> None:
    product(session, "Đặc sản Đồng Tháp")
    assert search(session, q="dac san dong") == ["Đặc sản Đồng Tháp"]


@pytest.mark.parametrize("asked", ["%", "_", "\\", "%%", "a%b", "' OR 1=1 --", "banh_cay", "\\%"])
def test_wildcards_and_sql_are_taken_literally(session: Session, asked: str) -> None:
    product(session, "Bánh cáy")
    product(session, "Nếp 100% cái hoa vàng")
    found = search(session, q=asked)
    assert "Bánh cáy" not in found
    if asked == "%":
        assert found == ["Nếp 100% cái hoa vàng"]


def test_like_pattern_escapes_its_own_characters() -> None:
    assert like_pattern("a%b_c\\d") == "%a\\%b\\_c\\\\d%"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 10_000}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "a\u202eb"}, "q"),
        ({"q": "a b c d e f g h i"}, "q"),
        ({"stars": "2"}, "stars"),
        ({"stars": "four"}, "stars"),
        ({"kind": "distributor"}, "kind"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "1e3"}, "page"),
        ({"page": "٣"}, "page"),  # an Arabic-Indic digit: isdigit() but not ours
        ({"page": "9" * 50}, "page"),
        ({"per_page": "101"}, "per_page"),
        ({"lapsed": "yes"}, "lapsed"),
        ({"province": "x" * 201}, "province"),
    ],
)
def test_bad_input_is_refused_naming_the_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(CatalogueQueryRefused) as refused:
        CatalogueQuery.parse(params)
    assert refused.value.field == field
    assert str(refused.value)  # one English sentence, rendered


def test_filters(session: Session) -> None:
    coop = organisation(session, OrgKind.COOPERATIVE)
    firm = organisation(session, OrgKind.ENTERPRISE)
    firm.addresses.append(Address(province="Đồng Tháp", effective_from=dt.date(2025, 7, 1)))
    session.flush()
    product(session, "Bánh cáy", stars=4, producer=coop)
    product(session, "Sen sấy", stars=5, producer=firm, sector="Đồ uống")
    assert search(session, stars="5") == ["Sen sấy"]
    assert search(session, stars="4") == ["Bánh cáy"]
    assert search(session, kind="cooperative") == ["Bánh cáy"]
    assert search(session, sector="Đồ uống") == ["Sen sấy"]
    # The current address counts, not the one the organisation had before.
    assert search(session, province="Đồng Tháp") == ["Sen sấy"]
    assert search(session, province="Hưng Yên") == ["Bánh cáy"]
    facets = catalogue_facets(session, TODAY)
    assert {"Đồng Tháp", "Hưng Yên"} <= set(facets.provinces)
    assert {"Thực phẩm", "Đồ uống"} <= set(facets.sectors)


def test_stars_follow_the_newest_valid_certificate(session: Session) -> None:
    item = product(session, "Bánh cáy", stars=3)
    session.add(
        Certification(
            scheme=Scheme.OCOP, number=f"CAT-NEW-{item.id}", product=item, stars=5,
            issuing_body="UBND tỉnh", valid_from=TODAY - dt.timedelta(days=10),
            valid_until=TODAY + dt.timedelta(days=1000),
        )
    )  # fmt: skip
    session.flush()
    assert search(session, stars="5") == ["Bánh cáy"]
    assert search(session, stars="3") == []
    page = search_catalogue(session, CatalogueQuery(), TODAY)
    assert [e.ocop.stars for e in page.entries if e.name == "Bánh cáy"] == [5]


def test_paging_and_past_the_end(session: Session) -> None:
    for i in range(5):
        product(session, f"Chè {i}")
    first = search_catalogue(session, CatalogueQuery.parse({"per_page": "2"}), TODAY)
    assert (first.total, first.pages, first.has_next, first.has_previous) == (5, 3, True, False)
    last = search_catalogue(session, CatalogueQuery.parse({"per_page": "2", "page": "3"}), TODAY)
    assert [e.name for e in last.entries] == ["Chè 4"]
    with pytest.raises(NotFound):
        search_catalogue(session, CatalogueQuery.parse({"per_page": "2", "page": "4"}), TODAY)
    # An empty search still has its first page.
    assert search_catalogue(session, CatalogueQuery.parse({"q": "zzz"}), TODAY).total == 0


def test_product_listing_and_not_found(session: Session) -> None:
    item = product(session, "Bánh cáy")
    listing = catalogue_product(session, item.code, utcnow(), TODAY)
    assert listing.entry.certified and listing.producer.id == item.producer_id
    assert [c.number for c in listing.certificates] == [f"CAT-OCOP-{item.code[3:]}"]
    hidden = product(session, "Chưa duyệt", approved=False)
    for code in (hidden.code, "NOPE", "x" * 5000):
        with pytest.raises(NotFound):
            catalogue_product(session, code, utcnow(), TODAY)


def test_producer_listing(session: Session) -> None:
    coop = organisation(session, OrgKind.COOPERATIVE)
    product(session, "Chè lapsed", producer=coop, lapsed=True)
    product(session, "Bánh cáy", producer=coop)
    session.add_all([
        Facility(code=f"AREA{next(_n)}", organisation=coop, kind=FacilityKind.RAW_MATERIAL_AREA,
                 name="Vùng nếp", latitude=20.55, longitude=106.05, crop="Nếp cái hoa vàng"),
        Facility(code=f"SHOP{next(_n)}", organisation=coop, kind=FacilityKind.SHOP, name="Quầy"),
    ])  # fmt: skip
    session.flush()
    listing = producer_listing(session, coop.id, TODAY)
    assert [(e.name, e.certified) for e in listing.products] == [
        ("Bánh cáy", True),
        ("Chè lapsed", False),
    ]
    assert [p.name for p in listing.places] == ["Vùng nếp"]
    shop = organisation(session, OrgKind.RETAILER)
    for org_id in (shop.id, 10**9):
        with pytest.raises(NotFound):
            producer_listing(session, org_id, TODAY)


def test_sitemap_lists_certified_products_and_their_producers(session: Session) -> None:
    good = product(session, "Bánh cáy")
    lapsed = product(session, "Chè", lapsed=True)
    codes, producers = sitemap_entries(session, TODAY)
    assert good.code in codes and lapsed.code not in codes
    assert good.producer_id in producers and lapsed.producer_id not in producers


def test_search_text_is_kept_when_a_name_changes(session: Session) -> None:
    item = product(session, "Bánh cáy")
    item.name = "Kẹo dồi"
    session.flush()
    stored = session.scalar(select(Product.search_text).where(Product.id == item.id))
    assert stored == "keo doi"
    assert search(session, q="keo") == ["Kẹo dồi"]
