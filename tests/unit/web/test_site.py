"""The ``when`` filter: every date and moment on every page written one way, in Vietnam time."""

from __future__ import annotations

import datetime as dt

import pytest

from ocop.web import create_app
from ocop.web.site import when

UTC_EVENING = dt.datetime(2026, 11, 29, 20, 5, 9, tzinfo=dt.UTC)  # 03:05 next day in Vietnam


def test_a_moment_is_written_in_vietnam_time() -> None:
    assert when(UTC_EVENING) == "30/11/2026 03:05"
    assert when(UTC_EVENING, "second") == "30/11/2026 03:05:09"
    assert when(UTC_EVENING, "day") == "30/11/2026"


def test_a_date_and_a_wall_clock_time_are_written_as_they_are() -> None:
    assert when(dt.date(2026, 1, 2)) == "02/01/2026"
    # An event's own local time (no zone): never shifted.
    assert when(dt.datetime(2026, 1, 2, 7, 30)) == "02/01/2026 07:30"
    assert when(None) == ""


def test_an_unknown_precision_is_a_mistake_in_the_template() -> None:
    with pytest.raises(ValueError, match="precision"):
        when(UTC_EVENING, "hour")


def test_the_filter_is_registered_by_the_factory(tmp_path) -> None:
    app = create_app(
        {"instance": tmp_path, "database_url": f"sqlite:///{tmp_path / 'x.db'}",
         "secret_key": "t", "rate_limit": None}
    )
    template = app.jinja_env.from_string('{{ t|when }} · {{ t|when("day") }}')
    assert template.render(t=UTC_EVENING) == "30/11/2026 03:05 · 30/11/2026"
    app.extensions["ocop.db"].dispose()


def test_iso_text_from_the_kept_details_is_written_the_same_way() -> None:
    assert when("2026-11-20") == "20/11/2026"
    # An event's time keeps the wall clock of where it was recorded.
    assert when("2026-11-20T06:15:00+07:00") == "20/11/2026 06:15"
    assert when("2026-11-20T06:15:00+07:00", "day") == "20/11/2026"
    assert when("") == ""
    with pytest.raises(ValueError):
        when("20/11/2026")
