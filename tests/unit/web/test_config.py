from __future__ import annotations

import pytest

from ocop.stamps.qr import encode, fits_stamp_symbol
from ocop.web.config import ConfigError, Settings


def test_defaults_work_on_a_laptop(tmp_path):
    settings = Settings.from_env({"OCOP_INSTANCE": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'ocop.db'}"
    assert settings.base_url == "http://127.0.0.1:5000"
    assert settings.rate_limit == "300/minute" and not settings.production


@pytest.mark.parametrize(
    "base", ["https://tem.ocop.vn", "HTTPS://OCOP.GOV.VN/", "http://127.0.0.1:5000"]
)
def test_base_urls_that_fit_version_6(base):
    settings = Settings.from_env({"OCOP_BASE_URL": base})
    url = f"{settings.base_url.upper()}/V/{'A' * 130}"
    assert encode(url).version <= 6


@pytest.mark.parametrize(
    "base", ["https://tem.example.com.vn", "https://tem.ocop.vn/x_y", "ftp://x.vn", "tem.ocop.vn"]
)
def test_base_urls_that_cannot_make_a_stamp_are_refused(base):
    with pytest.raises(ConfigError, match="OCOP_BASE_URL"):
        Settings.from_env({"OCOP_BASE_URL": base})


def test_fits_stamp_symbol_agrees_with_the_encoder():
    for n in range(140, 160):
        text = "H" * n
        assert fits_stamp_symbol(text) == (encode(text, max_version=40).version <= 6)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OCOP_PROXY_HOPS", "two"),
        ("OCOP_DEVICE_THRESHOLD", "0"),
        ("OCOP_MAX_BATCH", "-1"),
        ("OCOP_JOB_CHUNK", "0"),
        ("OCOP_JOB_LEASE", "1"),
    ],
)
def test_bad_numbers_are_refused_by_name(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_production_refuses_development_fallbacks(tmp_path):
    settings = Settings.from_env({"OCOP_ENV": "production", "OCOP_INSTANCE": str(tmp_path)})
    with pytest.raises(ConfigError, match="OCOP_SECRET_KEY"):
        settings.resolved_secret_key()
    with pytest.raises(ConfigError, match="OCOP_PIN_SECRET"):
        settings.resolved_pin_secret()
    assert list(tmp_path.iterdir()) == []


def test_rate_limit_off():
    assert Settings.from_env({"OCOP_RATE_LIMIT": "off"}).rate_limit is None


def test_the_queue_is_in_process_unless_a_broker_is_named():
    assert Settings.from_env({}).queue_url is None
    assert Settings.from_env({"OCOP_QUEUE_URL": "  "}).queue_url is None
    url = "redis://127.0.0.1:6379/0"
    assert Settings.from_env({"OCOP_QUEUE_URL": url}).queue_url == url
    assert Settings.from_env({"OCOP_QUEUE_URL": "amqp://mq"}).queue_url == "amqp://mq"


@pytest.mark.parametrize("url", ["http://redis:6379", "postgresql://db/ocop", "redis"])
def test_a_queue_url_that_names_no_broker_is_refused(url):
    with pytest.raises(ConfigError, match="OCOP_QUEUE_URL"):
        Settings.from_env({"OCOP_QUEUE_URL": url})


def test_scan_path_settings_and_their_defaults():
    settings = Settings.from_env({})
    assert (settings.bulk_limit, settings.bulk_token_limit) == ("1000/minute", "20000/minute")
    assert settings.pin_attempts == 10 and settings.scan_sync_commit is True
    assert settings.copy_rule.sightings == settings.device_threshold == 10
    custom = Settings.from_env(
        {
            "OCOP_BULK_LIMIT": "off",
            "OCOP_SCAN_SYNC_COMMIT": "off",
            "OCOP_TRUSTED_PROXIES": "10.1.0.0/16, 2001:db8::1",
            "OCOP_DEVICE_THRESHOLD": "25",
        }
    )
    assert custom.bulk_limit is None and custom.scan_sync_commit is False
    assert [str(n) for n in custom.trusted_proxies] == ["10.1.0.0/16", "2001:db8::1/128"]
    assert custom.copy_rule.sightings == 25


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("OCOP_RATE_LIMIT", "lots", "not a rate limit"),
        ("OCOP_BULK_LIMIT", "5 per fortnight", "not a rate limit"),
        ("OCOP_TRUSTED_PROXIES", "10.0.0.0/8, nope", "OCOP_TRUSTED_PROXIES"),
        ("OCOP_SCAN_SYNC_COMMIT", "maybe", "OCOP_SCAN_SYNC_COMMIT"),
        ("OCOP_PIN_ATTEMPTS", "0", "OCOP_PIN_ATTEMPTS"),
    ],
)
def test_bad_scan_path_settings_are_refused_with_a_reason(name, value, reason):
    with pytest.raises(ConfigError, match=reason):
        Settings.from_env({name: value})


def test_product_photos_live_in_the_instance_unless_told_otherwise(tmp_path):
    settings = Settings.from_env({"OCOP_INSTANCE": str(tmp_path)})
    assert settings.photos == tmp_path.resolve() / "photos"
    shared = tmp_path / "shared volume"
    told = Settings.from_env({"OCOP_INSTANCE": str(tmp_path), "OCOP_PHOTOS_DIR": f" {shared} "})
    assert told.photos == shared.resolve()
    assert settings.with_overrides({"photos_dir": str(shared)}).photos == shared
