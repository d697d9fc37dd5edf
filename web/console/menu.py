"""The console menu, in order. An entry shows only when its view exists and the
actor holds the view's permission (see :func:`ocop.web.console._nav`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MENU = [
    ("console.home", _l("Tổng quan")),
    ("console.organisations", _l("Tổ chức")),
    ("console.products", _l("Sản phẩm")),
    ("console.certifications", _l("Chứng nhận")),
    ("console.lots", _l("Lô hàng")),
    ("console.facilities", _l("Vùng nguyên liệu, cơ sở")),
    ("console.events", _l("Sự kiện")),
    ("console.stamp_requests", _l("Yêu cầu tem")),
    ("console.stamps_activate", _l("Kích hoạt tem")),
    ("console.receiving", _l("Nhận hàng")),
    ("console.analytics", _l("Lượt quét")),
    ("console.reports", _l("Báo cáo tem giả")),
    ("console.api_tokens", _l("Khóa API")),
    ("console.keys", _l("Khóa ký")),
    ("console.users", _l("Tài khoản")),
    ("console.audit", _l("Nhật ký")),
]
