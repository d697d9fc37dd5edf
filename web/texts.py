"""Words shown to people for the machine codes: Vietnamese source, English catalogue."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

HEADLINES = {
    "genuine": _l("Tem chính hãng"),
    "suspect": _l("Cần lưu ý: tem này có thể đã bị sao chép"),
    "recalled": _l("Lô hàng này đã bị thu hồi"),
    "revoked": _l("Tem này đã bị vô hiệu hoá"),
    "invalid": _l("Tem không hợp lệ: không phải tem thật"),
}

# A reason that says more than its status's headline: shown in its place.
REASON_HEADLINES = {
    "not_activated": _l("Tem chưa được kích hoạt"),
}

SYMBOLS = {"genuine": "✓", "suspect": "!", "recalled": "✕", "revoked": "✕", "invalid": "✕"}

REASONS = {
    "malformed": _l("Mã không đúng định dạng tem OCOP."),
    "unknown_key": _l("Tem không được ký bởi một cơ quan có thẩm quyền mà chúng tôi biết."),
    "bad_signature": _l("Chữ ký số của tem không khớp: tem đã bị làm giả hoặc sửa đổi."),
    "key_revoked": _l("Khoá ký của tem đã bị thu hồi."),
    "unknown_batch": _l("Không có lô tem nào như vậy được phát hành."),
    "not_in_log": _l(
        "Lô tem này không có trong sổ công khai các lô tem đã phát hành: tem không được "
        "phát hành hợp lệ, dù có chữ ký."
    ),
    "not_activated": _l(
        "Tem chưa được kích hoạt: nhà sản xuất chưa đưa tem này vào sử dụng khi đóng gói. "
        "Tem có thể đã bị lấy cắp trước khi dán lên sản phẩm; hãy hỏi nơi bán hoặc báo "
        "cho chúng tôi."
    ),
    "batch_voided": _l("Lô tem này đã bị huỷ."),
    "lot_recalled": _l("Lô sản phẩm đã bị thu hồi; xem thông báo bên dưới."),
    "certificate_expired": _l("Giấy chứng nhận OCOP của sản phẩm đã hết hạn."),
    "certificate_revoked": _l("Giấy chứng nhận OCOP của sản phẩm đã bị thu hồi."),
    "no_valid_certificate": _l("Sản phẩm hiện không có giấy chứng nhận OCOP còn hiệu lực."),
    "past_best_before": _l("Sản phẩm đã quá hạn sử dụng."),
    "scan_limit_exceeded": _l(
        "Tem này đã được quét ở nhiều nơi hơn một sản phẩm thường đi qua (nhiều thiết bị "
        "khác nhau, trên nhiều mạng khác nhau), có thể đã bị sao chép. "
        "Nếu bạn mua hàng ở cửa hàng uy tín, rất có thể bạn đang giữ tem gốc; hãy báo cho "
        "chúng tôi nơi mua để giúp tìm hàng giả."
    ),
    "seen_far_apart": _l(
        "Tem này đã được quét ở hai tỉnh cách xa nhau trong vòng một giờ, điều mà một sản "
        "phẩm không thể làm: có thể có bản sao của tem. Nếu bạn mua hàng ở cửa hàng uy tín, "
        "rất có thể bạn đang giữ tem gốc; hãy báo cho chúng tôi nơi mua."
    ),
    "pin_claimed_twice": _l(
        "Mã PIN dưới lớp cào của tem này đã được nhập hơn một lần. Nếu bạn vừa cào lớp phủ "
        "lần đầu, hãy báo cho chúng tôi nơi mua."
    ),
    "offline_uniqueness_unchecked": _l("Kiểm tra ngoại tuyến không phát hiện được tem sao chép."),
}

BIZ_STEPS = {
    "harvesting": _l("Thu hoạch"),
    "receiving": _l("Nhận hàng"),
    "transforming": _l("Chế biến"),
    "packing": _l("Đóng gói"),
    "shipping": _l("Vận chuyển"),
    "inspecting": _l("Kiểm tra"),
    "commissioning": _l("Khởi tạo"),
    "storing": _l("Lưu kho"),
    "retail_selling": _l("Bán lẻ"),
    "accepting": _l("Tiếp nhận"),
}

SCHEMES = {
    "ocop": "OCOP",
    "vietgap": "VietGAP",
    "organic": _l("Hữu cơ"),
    "haccp": "HACCP",
    "iso22000": "ISO 22000",
}

CERT_STATUS = {
    "valid": _l("còn hiệu lực"),
    "expired": _l("đã hết hạn"),
    "revoked": _l("đã bị thu hồi"),
    "superseded": _l("đã được thay thế"),
}

LEVELS = {"central": _l("cấp Trung ương"), "province": _l("cấp tỉnh"), "district": _l("cấp huyện")}

ORG_KINDS = {
    "authority": _l("Cơ quan quản lý"),
    "enterprise": _l("Doanh nghiệp"),
    "cooperative": _l("Hợp tác xã"),
    "cooperative_group": _l("Tổ hợp tác"),
    "household_business": _l("Hộ kinh doanh"),
    "distributor": _l("Nhà phân phối"),
    "retailer": _l("Nhà bán lẻ"),
}
