"""Folding for search: Python's fold and PostgreSQL's index agree on Vietnamese."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from ocop.trace.folding import fold, product_search_text

VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậ eèéẻẽẹêềếểễệ iìíỉĩị oòóỏõọôồốổỗộơờớởỡợ "
    "uùúủũụưừứửữự yỳýỷỹỵ đ ĐỒNG THÁP Hưng Yên"
)


@pytest.mark.parametrize(
    ("given", "folded"),
    [
        ("Bánh cáy", "banh cay"),
        ("ĐẶC SẢN Đồng Tháp", "dac san dong thap"),
        ("  Mật   ong\trừng ", "mat ong rung"),
        ("Ca\u0301 kho", "ca kho"),  # decomposed input (NFD) folds the same
        ("100% nếp_cái\\hoa", "100% nep_cai\\hoa"),  # LIKE's characters stay as they are
        ("", ""),
    ],
)
def test_fold(given: str, folded: str) -> None:
    assert fold(given) == folded


def test_product_search_text_joins_name_and_short_name() -> None:
    both = product_search_text("Bánh cáy làng Nguyễn", "Bánh cáy")
    assert both == "banh cay lang nguyen banh cay"
    assert product_search_text("Mật ong", None) == "mat ong"


def test_postgres_folds_vietnamese_as_python_does(session: Session, is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("PostgreSQL's ocop_fold exists only there")
    for word in VIETNAMESE.split():
        assert session.scalar(text("SELECT ocop_fold(:w)"), {"w": word}) == fold(word), word
