"""The verdict, as a page and as JSON, rendered once and filled in per scan.

Two scans of stamps of one batch, in one language, on one day, at one facts
version and with one verdict, differ only in a handful of values: the serial,
the token in the forms' addresses, the scan counts and the first scan's date.
So the page is rendered with markers in their places (``p.serial`` and so on),
split at the markers once, and kept; a scan joins the pieces with its own
values. Rendering the whole template cost about a third of a scan, the
translations alone 41 catalogue lookups. The JSON answer keeps the lot's
details serialised the same way.

What must show at once is in the key: a recall, a void, a revocation or a
certificate's change moves the facts version. What may be a little stale (a
new event in the journey, a product's picture) is kept :data:`KEEP` seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from markupsafe import Markup, escape

from ocop.stamps import Verdict
from ocop.stamps.token import StampToken
from ocop.trace.db import VIETNAM
from ocop.trace.errors import DomainError
from ocop.trace.provinces import PROVINCES

from .cache import TtlCache
from .languages import select_locale
from .presenters import stamp_details, verdict_json

KEEP = 60.0
_SLOT = re.compile(r"ocopslot([a-z]+)x")
_PROVINCE_NAMES = tuple(p.name for p in PROVINCES)


class _Markers:
    """What the template sees as ``p``: a marker wherever a scan's own value goes."""

    def __getattr__(self, name: str) -> str:
        return f"ocopslot{name}x"


@dataclass(frozen=True, slots=True)
class _Split:
    texts: tuple[str, ...]  # one more than names
    names: tuple[str, ...]

    @classmethod
    def of(cls, rendered: str) -> _Split:
        pieces = _SLOT.split(rendered)
        return cls(tuple(pieces[0::2]), tuple(pieces[1::2]))

    def fill(self, values: dict[str, str]) -> str:
        out = [self.texts[0]]
        for name, text in zip(self.names, self.texts[1:], strict=True):
            out.append(values[name])
            out.append(text)
        return "".join(out)


def _cache(name: str) -> TtlCache[Any]:
    caches = current_app.extensions.setdefault("ocop.pages", {})
    if name not in caches:
        caches[name] = TtlCache(seconds=KEEP, size=2000)
    return caches[name]


def place_ref(token: StampToken, log_id: int) -> str:
    """What the "share your province" form sends back: the scan, signed for this stamp.

    No cookie is needed to tie the place to the scan (in-app browsers drop
    them), and nobody can attach a place to a scan they did not make.
    """
    return f"{log_id}-{_mac(token, log_id)}"


def check_place_ref(token: StampToken, ref: str) -> int | None:
    """The scan ``ref`` names, if it was signed for ``token``; else None."""
    log_id, _, mac = ref.partition("-")
    if not log_id.isascii() or not log_id.isdigit() or len(log_id) > 19:
        return None
    if not hmac.compare_digest(mac, _mac(token, int(log_id))):
        return None
    return int(log_id)


def _mac(token: StampToken, log_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"place:{token.encode()}:{log_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]


def verdict_page(
    verdict: Verdict, today: dt.date, load_details: Callable[[], dict[str, Any]]
) -> str:
    """The verify page for ``verdict``; ``load_details`` runs only when it is not kept."""
    batch = verdict.batch if verdict.known else None
    scans = verdict.scans
    place_form = batch is not None and scans is not None and scans.log_id is not None
    key: Hashable = (
        batch.id if batch else None,
        batch.version if batch else None,
        select_locale(),
        today,
        verdict.status,
        verdict.reasons,
        verdict.serial is not None,
        verdict.token is not None,
        scans is not None,
        place_form,
    )

    def render() -> _Split:
        details = load_details() if batch is not None and not verdict.inert else {}
        # Jinja's own output, escaped as it was rendered.
        lot_part = (
            Markup(render_template("_verify_lot.html", d=details))  # noqa: S704
            if details
            else ""
        )
        return _Split.of(
            render_template(
                "verify.html",
                v=verdict,
                p=_Markers(),
                lot_part=lot_part,
                place_form=place_form,
                provinces=_PROVINCE_NAMES,
            )
        )

    split: _Split = _cache("html").get(key, render)
    values = {"serial": str(escape(str(verdict.serial))) if verdict.serial else ""}
    if verdict.token is not None:
        values["token"] = verdict.token.encode()  # base32: nothing to escape
    if scans is not None:
        values["first"] = scans.first_at.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")
        values["count"] = str(scans.count)
        values["devices"] = str(scans.devices)
        values["sightings"] = str(scans.sightings)
        if place_form and verdict.token is not None and scans.log_id is not None:
            values["ref"] = place_ref(verdict.token, scans.log_id)
    return split.fill(values)


def verdict_body(
    verdict: Verdict, today: dt.date, load_details: Callable[[], dict[str, Any]]
) -> str:
    """The single-code JSON answer: the verdict, then the lot's details kept as text."""
    summary = verdict_json(verdict)
    batch = verdict.batch if verdict.known and not verdict.inert else None
    if batch is not None and batch.log_index is not None:
        from .transparency import inclusion_json

        # The batch's leaf, proved in the latest signed head: anyone can check
        # that what this server vouches for is in the public log. A log key that
        # cannot be unlocked leaves the proof out rather than the verdict.
        try:
            summary["log"] = inclusion_json(batch.log_index)
        except DomainError:
            current_app.logger.warning("no transparency log proof: the log key is unavailable")
    tail = "{}"
    if batch is not None:
        key = (batch.id, batch.version, today)
        tail = _cache("json").get(key, lambda: _dumps(load_details()))
    if tail == "{}":
        return _dumps(summary)
    # The details' "batch" (number, issue date, void reason) says more than the summary's.
    summary.pop("batch", None)
    return f"{_dumps(summary)[:-1]},{tail[1:]}"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def details_loader(verdict: Verdict, today: dt.date) -> Callable[[], dict[str, Any]]:
    """What the page shows of a known stamp's lot, read when a kept page runs out."""
    from .database import request_session
    from .verifying import details_cache

    return lambda: stamp_details(request_session(), verdict, today, details_cache())
