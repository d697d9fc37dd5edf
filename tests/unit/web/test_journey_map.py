"""The journey on a dot map: places placed by their own coordinates or their province's."""

from __future__ import annotations

from ocop.web.journey_map import HEIGHT, WIDTH, journey_map, project, province_in


def _place(name, lat=None, lon=None, province=None):
    return {"name": name, "kind": "farm", "latitude": lat, "longitude": lon, "province": province}


def test_the_frame_holds_the_whole_country_north_up() -> None:
    north = project(23.39, 105.3)  # near Lũng Cú
    south = project(8.6, 104.7)  # Cà Mau cape
    assert 0 <= north.y < south.y <= HEIGHT
    assert 0 <= south.x <= WIDTH and 0 <= north.x <= WIDTH


def test_an_address_names_its_province_with_or_without_its_prefix() -> None:
    assert province_in("tỉnh Hưng Yên").name == "Hưng Yên"
    assert province_in("thành phố Hà Nội").name == "Hà Nội"
    assert province_in("Thành phố Hồ Chí Minh").name == "Thành phố Hồ Chí Minh"
    assert province_in("tỉnh Thái Bình") is None  # merged into Hưng Yên in 2025
    assert province_in(None) is None and province_in("") is None


def test_places_near_each_other_share_a_dot_and_the_route_joins_them_in_order() -> None:
    drawn = journey_map([
        _place("Vùng nếp", 20.55, 106.34),
        _place("Xưởng", 20.551, 106.345),
        _place("Kho", province="thành phố Hà Nội"),
        _place("Nowhere"),
    ])
    assert drawn is not None
    assert [m.label for m in drawn.markers] == ["1–2", "3"]
    assert [s.approximate for s in drawn.stops] == [False, False, True, False]
    assert drawn.stops[3].at is None  # listed in the legend, not on the map
    assert drawn.path.count(",") == 3


def test_no_place_with_a_position_draws_no_map() -> None:
    assert journey_map([_place("Nowhere")]) is None
    assert journey_map([]) is None
