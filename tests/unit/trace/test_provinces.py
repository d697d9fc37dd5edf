"""The 34 provinces and centrally-run cities since 1 July 2025."""

from __future__ import annotations

import unicodedata

from ocop.trace.provinces import BY_NAME, PROVINCES, distance_km, province


def test_thirty_four_names_in_nfc_with_their_diacritics() -> None:
    assert len(PROVINCES) == len(BY_NAME) == 34
    assert all(unicodedata.is_normalized("NFC", p.name) for p in PROVINCES)
    names = set(BY_NAME)
    # Merged away in 2025: no longer names of provinces.
    assert not names & {"Thái Bình", "Hà Giang", "Bình Dương", "Quảng Nam", "Bình Định"}
    assert {"Hà Nội", "Hưng Yên", "Thành phố Hồ Chí Minh", "Đắk Lắk", "Khánh Hòa"} <= names
    assert all(8 < p.latitude < 24 and 102 < p.longitude < 110 for p in PROVINCES)


def test_lookup_takes_any_normal_form_and_refuses_the_rest() -> None:
    assert province(unicodedata.normalize("NFD", "Hưng Yên")) is BY_NAME["Hưng Yên"]
    assert province("  Cà Mau ") is BY_NAME["Cà Mau"]
    assert province("Thái Bình") is None and province("") is None


def test_distances_are_roughly_right() -> None:
    hanoi, hcmc = BY_NAME["Hà Nội"], BY_NAME["Thành phố Hồ Chí Minh"]
    assert 1100 < distance_km(hanoi, hcmc) < 1200
    assert distance_km(hanoi, hanoi) == 0
    assert distance_km(hanoi, BY_NAME["Bắc Ninh"]) < 60
