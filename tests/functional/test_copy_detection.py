"""Copy detection against both errors: simulated shoppers stay genuine, counterfeits turn suspect.

docs/copy-detection.md states the rule; these are its cases, through the web app.
"""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest

from ocop.stamps.analytics import Period, places
from ocop.stamps.models import StampScan
from ocop.trace.db import vietnam_today
from ocop.web import create_app

from .scanning import ZALO, Phone, demo_stamps


@pytest.fixture
def stamps(app, runner):
    return demo_stamps(app, runner)


def _row(app, stamp) -> StampScan:
    with app.extensions["ocop.db"].transaction() as session:
        return session.get(StampScan, (stamp.serial.batch, stamp.serial.index))


def test_an_in_app_browser_rescanning_without_cookies_stays_genuine(app, stamps) -> None:
    zalo = Phone(app, "113.161.40.7", cookies=False, agent=ZALO)
    answers = [zalo.scan(stamps[0]).json for _ in range(12)]
    assert {a["status"] for a in answers} == {"genuine"}
    last = answers[-1]["scans"]
    assert (last["count"], last["devices"], last["sightings"]) == (12, 1, 1)
    # A browser that does keep the cookie it is offered stays the same device.
    keeper = Phone(app, "113.161.40.7", agent=ZALO)
    keeper.scan(stamps[0])
    assert keeper.scan(stamps[0]).json["scans"]["devices"] == 1


def test_a_family_sharing_a_product_stays_genuine(app, stamps) -> None:
    # Five phones, one home Wi-Fi. (Identical browsers on one network on one day
    # would share one cookie-less device id: docs/copy-detection.md.)
    home = [Phone(app, f"14.232.77.{n}", agent=f"{ZALO} model-{n}") for n in range(2, 7)]
    for _ in range(3):
        for phone in home:
            assert phone.scan(stamps[1]).json["status"] == "genuine"
    for n, phone in enumerate(home):  # each also scans on its own mobile data
        phone.address = f"27.72.{100 + n}.9"
        assert phone.scan(stamps[1]).json["status"] == "genuine"
    row = _row(app, stamps[1])
    assert (row.count, row.devices, row.sightings) == (20, 5, 1)


def test_a_shop_rescanning_its_shelf_every_day_stays_genuine(app, stamps, monkeypatch) -> None:
    from ocop.web import scanning

    scanner = Phone(app, "203.162.4.20", cookies=False, agent="QR Scanner/4.1 (Android)")
    for day in range(1, 15):  # a fortnight, a new cookie-less device every day
        monkeypatch.setattr(scanning, "vietnam_today", lambda d=day: dt.date(2026, 11, d))
        for stamp in stamps[2:8]:
            assert scanner.scan(stamp).json["status"] == "genuine"
    row = _row(app, stamps[2])
    assert (row.count, row.devices, row.sightings) == (14, 14, 1)


def test_one_client_forging_cookies_and_browsers_cannot_flag_a_stamp(app, stamps) -> None:
    attacker = Phone(app, "45.76.10.3", cookies=False)
    for n in range(40):
        answer = attacker.scan(
            stamps[8],
            Cookie=f"ocop_device={n:032d}",
            **{"User-Agent": f"Mozilla/5.0 (Fake {n})"},
        ).json
        assert answer["status"] == "genuine"
    assert answer["scans"]["devices"] == 40 and answer["scans"]["sightings"] == 1


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(
    clean_database, database_url, instance, monkeypatch
) -> None:
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", "correct horse battery staple")
    app = create_app(
        {
            "database_url": database_url,
            "instance": instance,
            "secret_key": "test-secret",
            "rate_limit": None,
            "proxy_hops": 1,
            "TESTING": True,
        }
    )
    try:
        stamps = demo_stamps(app, app.test_cli_runner())
        direct = Phone(app, "45.76.10.3", cookies=False)  # no proxy in front of it
        for n in range(15):
            answer = direct.scan(stamps[9], **{"X-Forwarded-For": f"100.{n}.1.1"}).json
        assert answer["status"] == "genuine" and answer["scans"]["sightings"] == 1
        proxy = Phone(app, "10.0.0.2", cookies=False)  # the load balancer
        for n in range(11):
            answer = proxy.scan(stamps[10], **{"X-Forwarded-For": f"100.{n}.1.1"}).json
        assert answer["status"] == "suspect" and answer["scans"]["sightings"] == 11
    finally:
        app.extensions["ocop.db"].dispose()


def test_one_printed_copy_on_500_fakes_across_a_province_turns_suspect(app, stamps) -> None:
    rng = random.Random(12)
    threshold = app.config["OCOP"].device_threshold
    # Shoppers on a few dozen mobile networks (carriers share addresses), new phones each.
    networks = [f"{rng.choice([27, 113, 171, 14])}.{rng.randrange(256)}.{n}.0" for n in range(40)]
    statuses = []
    for n in range(500):
        shopper = Phone(app, networks[n % len(networks)].removesuffix("0") + str(1 + n % 200))
        statuses.append(shopper.scan(stamps[11]).json["status"])
    first_suspect = statuses.index("suspect")
    assert first_suspect == threshold  # the eleventh network to see it
    assert set(statuses[first_suspect:]) == {"suspect"}
    # The shopper who holds the original, on a network of its own: the 41st.
    page = Phone(app, "113.1.1.1").scan(stamps[11], page=True).get_data(as_text=True)
    assert "Cần lưu ý" in page and "41 nơi độc lập" in page
    assert "rất có thể bạn đang giữ tem gốc" in page
    answer = Phone(app, "113.1.1.2").scan(stamps[11]).json  # the same network again
    assert answer["reasons"] == ["scan_limit_exceeded"]
    assert answer["scans"]["sightings"] == 41 and answer["scans"]["count"] == 502


def _place_form(page: str) -> tuple[str, str]:
    action = re.search(r'action="([^"]+/place)"', page).group(1)
    ref = re.search(r'name="scan" value="([^"]+)"', page).group(1)
    return action, ref


def test_places_far_apart_within_an_hour_flag_a_copy_sooner(app, stamps) -> None:
    stamp = stamps[3]
    shoppers = [Phone(app, f"42.11{n}.3.5", cookies=False) for n in range(3)]
    pages = [s.scan(stamp, page=True).get_data(as_text=True) for s in shoppers]
    assert all("verdict-genuine" in p for p in pages)
    hanoi = shoppers[0].post(_place_form(pages[0])[0], {"scan": _place_form(pages[0])[1],
                                                          "place": "Hà Nội"})
    assert hanoi.status_code == 200 and "Hà Nội" in hanoi.get_data(as_text=True)
    camau = shoppers[2].post(_place_form(pages[2])[0], {"scan": _place_form(pages[2])[1],
                                                         "place": "Cà Mau"})
    assert camau.status_code == 200
    answer = shoppers[1].scan(stamp).json
    assert answer["status"] == "suspect" and answer["reasons"] == ["seen_far_apart"]
    assert answer["scans"]["far_apart"] == 1
    with app.extensions["ocop.db"].transaction() as session:
        today = vietnam_today()
        shared = places(session, None, Period(today - dt.timedelta(days=1), today))
    assert dict(shared) == {"Hà Nội": 1, "Cà Mau": 1}


def test_the_place_form_refuses_what_it_cannot_use(app, stamps) -> None:
    shopper = Phone(app, "42.1.3.5", cookies=False)
    page = shopper.scan(stamps[4], page=True).get_data(as_text=True)
    action, ref = _place_form(page)
    assert "Thành phố Hồ Chí Minh" in page and page.count("<option>") == 34
    scan_id, _, mac = ref.partition("-")
    forged = f"{int(scan_id) + 1}-{mac}"
    cases = [
        ({"scan": forged, "place": "Huế"}, 400),
        ({"scan": "", "place": "Huế"}, 400),
        ({"scan": ref, "place": "Thái Bình"}, 400),  # merged into Hưng Yên in 2025
        ({"scan": ref, "place": "x" * 10_000}, 400),
        ({"scan": ref, "place": "Huế"}, 200),
        ({"scan": ref, "place": "Đà Nẵng"}, 409),  # once per scan
    ]
    for data, status in cases:
        assert shopper.post(action, data).status_code == status, data
    # Another stamp's form cannot carry this scan.
    other = action.replace(stamps[4].token.encode(), stamps[5].token.encode())
    assert shopper.post(other, {"scan": ref, "place": "Huế"}).status_code == 400
    assert shopper.post("/V/not-a-stamp/place", {"scan": ref, "place": "Huế"}).status_code == 404
    assert _row(app, stamps[4]).place == "Huế"


def test_the_verdict_says_what_it_saw(app, stamps) -> None:
    answer = Phone(app, "1.2.3.4").scan(stamps[5]).json
    assert answer["scans"] | {"first_at": None, "last_at": None} == {
        "count": 1, "devices": 1, "sightings": 1, "far_apart": 0,
        "first_at": None, "last_at": None,
    }
    page = Phone(app, "1.2.3.4").scan(stamps[5], page=True).get_data(as_text=True)
    assert "Đã kiểm tra 2 lần trên 1 thiết bị." in page  # same browser, network and day
