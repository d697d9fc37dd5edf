"""The journey on a dot map: places placed by their own coordinates or their province's."""

from __future__ import annotations

from ocop.web.journey_map import COUNTRY, INSET, journey_map, project, province_in


def _place(name, lat=None, lon=None, province=None):
    return {"name": name, "kind": "farm", "latitude": lat, "longitude": lon, "province": province}


def test_the_frame_holds_the_whole_country_north_up() -> None:
    north = project(23.39, 105.3)  # near Lũng Cú
    south = project(8.6, 104.7)  # Cà Mau cape
    assert 0 <= north.y < south.y <= COUNTRY.height
    assert 0 <= south.x <= INSET and 0 <= north.x <= INSET


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
    # The panel spans the journey, with the provinces in it named for context.
    names = [name for name, _at in drawn.provinces]
    assert "Hà Nội" in names and "Hưng Yên" in names and "Cà Mau" not in names
    for stop in drawn.stops[:3]:
        assert 0 <= stop.at.x <= drawn.width and 0 <= stop.at.y <= drawn.height
    # The inset outlines where the panel is in the country: the north.
    _x, y, width, height = drawn.here
    assert y < drawn.inset_height / 3 and width > 0 and height > 0


def test_one_village_is_not_drawn_as_a_country() -> None:
    drawn = journey_map([_place("Vườn", 20.5531, 106.3442), _place("Xưởng", 20.5512, 106.3457)])
    assert drawn is not None and len(drawn.markers) == 1
    assert 0.5 <= drawn.height / drawn.width <= 1.5


def test_a_journey_across_the_country_fits_the_panel() -> None:
    drawn = journey_map([_place("Lào Cai", 22.48, 103.97), _place("Cà Mau", 9.18, 105.15)])
    assert drawn is not None and drawn.height <= 1.5 * drawn.width + 1
    assert all(0 <= s.at.x <= drawn.width and 0 <= s.at.y <= drawn.height for s in drawn.stops)


def test_no_place_with_a_position_draws_no_map() -> None:
    assert journey_map([_place("Nowhere")]) is None
    assert journey_map([]) is None
