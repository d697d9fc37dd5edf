from __future__ import annotations

import pytest

from ocop.stamps.pin import PIN_DIGITS, PinSecret, format_pin


def test_pin_is_stable_digits_and_depends_on_secret_batch_and_index():
    secret = PinSecret(b"s" * 32)
    pin = secret.pin_for(7, 3)
    assert pin == secret.pin_for(7, 3)
    assert len(pin) == PIN_DIGITS and pin.isdigit()
    others = {secret.pin_for(7, 4), secret.pin_for(8, 3), PinSecret(b"t" * 32).pin_for(7, 3)}
    assert pin not in others


def test_matches_tolerates_spacing_and_refuses_wrong_pins():
    secret = PinSecret(b"s" * 32)
    pin = secret.pin_for(1, 0)
    assert secret.matches(1, 0, format_pin(pin))
    assert secret.matches(1, 0, f" {pin[:4]}-{pin[4:]} ")
    assert not secret.matches(1, 1, pin)
    assert not secret.matches(1, 0, "")
    assert not secret.matches(1, 0, "x" * 500)


def test_short_secret_is_refused():
    with pytest.raises(ValueError):
        PinSecret(b"short")


def test_repr_hides_the_secret():
    assert "s" * 32 not in repr(PinSecret(b"s" * 32))
