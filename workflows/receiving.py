"""A distributor's stock check: verify a delivery's codes, then record its receipt.

A stock check is not a consumer's scan: every code is verified without counting
a scan. Codes are grouped by the lot they belong to, or, for a code whose
signature fails, by the lot its batch number names (a fake made to pass for a
real lot taints that lot). A lot passes only when every one of its codes is
genuine, and only lots that passed can be recorded as received: one EPCIS
receiving event, imported through the ordinary importer so that every rule
about events stays the importer's.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, BinaryIO

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ocop.stamps.decode import read_codes
from ocop.stamps.errors import MalformedToken, UnreadableImage
from ocop.stamps.facts import BatchFacts, batch_facts
from ocop.stamps.offline import VerdictStatus
from ocop.stamps.token import StampToken
from ocop.stamps.verify import Verdict, Verifier
from ocop.trace.db import VIETNAM
from ocop.trace.errors import InvalidGtin, Joined, Phrase
from ocop.trace.gtin import Gtin
from ocop.trace.importer import import_records
from ocop.trace.importer.vocabulary import FORMAT
from ocop.trace.models import Event

from .errors import NothingToReceive, PhotoTooLarge, ReceiptConflict, ReceivingRefused

# Reason codes of a delivery check, beside the verifier's own.
NOT_A_STAMP = "not_an_ocop_stamp"
DUPLICATE = "duplicate_in_delivery"

# Most reassuring first, the order summaries list statuses in.
STATUS_ORDER = (
    VerdictStatus.GENUINE,
    VerdictStatus.SUSPECT,
    VerdictStatus.RECALLED,
    VerdictStatus.REVOKED,
    VerdictStatus.INVALID,
)

MAX_KEY_LENGTH = 200
MAX_REFERENCE_LENGTH = 100
# Raster formats phones and scanners produce. Pillow could open more (EPS even
# runs Ghostscript), which a stranger's upload has no business reaching.
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")  # JPEG includes MPO, from cameras
MAX_PHOTO_PIXELS = 40_000_000

_LINK = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.)", re.IGNORECASE)
_STAMP_PATH = re.compile(r"/v/", re.IGNORECASE)
# Every receipt id is a name in this namespace, so a retry names the same event.
_RECEIPT_NAMESPACE = uuid.UUID("5d0c1f4e-8a51-4f0e-9c0b-7b3f2a9e6c11")


class CodeKind(StrEnum):
    STAMP = "stamp"  # in the stamp format, or a link to /V/...: the verdict decides
    BARCODE = "barcode"  # a product barcode number (EAN-13, EAN-8, UPC, GTIN-14)
    LINK = "link"  # a link that does not lead to a stamp: another site's QR code
    TEXT = "text"  # anything else: a mistyped or truncated code


def code_kind(text: str) -> CodeKind:
    """What sort of code ``text`` is, so that a barcode is not called a fake stamp."""
    try:
        StampToken.parse(text)
    except MalformedToken:
        pass
    else:
        return CodeKind.STAMP
    try:
        Gtin.parse(text)
    except InvalidGtin:
        pass
    else:
        return CodeKind.BARCODE
    if _STAMP_PATH.search(text):
        return CodeKind.STAMP  # a stamp's link, damaged or forged
    if _LINK.match(text.strip()):
        return CodeKind.LINK
    return CodeKind.TEXT


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """One code of the delivery and what the check found."""

    code: str
    kind: CodeKind
    verdict: Verdict
    # For a code that did not verify: the batch its number names, if that exists.
    claimed: BatchFacts | None = None
    # The position of the first code of the same stamp in this delivery.
    duplicate_of: int | None = None

    @property
    def status(self) -> VerdictStatus:
        # Two packs with one stamp: one of them carries a copy.
        if self.duplicate_of is not None and self.verdict.status is VerdictStatus.GENUINE:
            return VerdictStatus.SUSPECT
        return self.verdict.status

    @property
    def reasons(self) -> tuple[str, ...]:
        if self.kind in (CodeKind.BARCODE, CodeKind.LINK):
            return (NOT_A_STAMP,)
        reasons = tuple(reason.value for reason in self.verdict.reasons)
        return (*reasons, DUPLICATE) if self.duplicate_of is not None else reasons

    @property
    def passed(self) -> bool:
        return self.status is VerdictStatus.GENUINE

    @property
    def lot(self) -> str | None:
        """The stamp's lot, when its signature vouches for it."""
        batch = self.verdict.batch
        return batch.lot_code if batch is not None and self.verdict.known else None

    @property
    def claimed_lot(self) -> str | None:
        return self.claimed.lot_code if self.claimed is not None else None

    @property
    def group(self) -> str | None:
        """The lot this code counts for in the delivery."""
        return self.lot or self.claimed_lot

    @property
    def product(self) -> str | None:
        batch = self.verdict.batch if self.lot else self.claimed
        return batch.product_name if batch is not None else None


@dataclass(frozen=True, slots=True)
class LotCheck:
    """The codes of one lot in the delivery; the lot passes only if all of them do."""

    lot: str
    product: str | None
    codes: tuple[CodeCheck, ...]

    @property
    def passed(self) -> bool:
        return all(code.passed for code in self.codes)

    @property
    def failed(self) -> tuple[CodeCheck, ...]:
        return tuple(code for code in self.codes if not code.passed)

    @property
    def by_status(self) -> dict[str, int]:
        return _count_statuses(self.codes)

    @property
    def reason(self) -> Phrase | None:
        """Why the lot is not received, in one line; None when it passed."""
        failed = self.failed
        if not failed:
            return None
        # Statuses and reasons are the API's machine codes, the same in every language.
        found = Counter(f"{code.status.value} ({', '.join(code.reasons)})" for code in failed)
        return Phrase(
            "%(failed)s of %(total)s codes of lot %(lot)s did not pass: %(what)s; "
            "a lot is received only when every code of it is genuine",
            failed=len(failed),
            total=len(self.codes),
            lot=self.lot,
            what=", ".join(f"{n} {text}" for text, n in found.items()),
        )


@dataclass(frozen=True, slots=True)
class DeliveryCheck:
    codes: tuple[CodeCheck, ...]
    lots: tuple[LotCheck, ...]  # in the order their first code came

    @property
    def by_status(self) -> dict[str, int]:
        return _count_statuses(self.codes)

    @property
    def passed_lots(self) -> tuple[LotCheck, ...]:
        return tuple(lot for lot in self.lots if lot.passed)

    @property
    def refused_lots(self) -> tuple[LotCheck, ...]:
        return tuple(lot for lot in self.lots if not lot.passed)

    @property
    def not_stamps(self) -> int:
        return sum(1 for code in self.codes if code.kind in (CodeKind.BARCODE, CodeKind.LINK))

    @property
    def duplicates(self) -> int:
        return sum(1 for code in self.codes if code.duplicate_of is not None)

    @property
    def without_lot(self) -> tuple[CodeCheck, ...]:
        return tuple(code for code in self.codes if code.group is None)

    def summary(self) -> dict[str, Any]:
        return {
            "codes": len(self.codes),
            "by_status": self.by_status,
            "not_ocop_stamps": self.not_stamps,
            "duplicates": self.duplicates,
            "without_lot": len(self.without_lot),
            "by_lot": [
                {
                    "lot": lot.lot,
                    "product": lot.product,
                    "codes": len(lot.codes),
                    "by_status": lot.by_status,
                    "passed": lot.passed,
                }
                for lot in self.lots
            ],
        }


def _count_statuses(codes: Sequence[CodeCheck]) -> dict[str, int]:
    found = Counter(code.status for code in codes)
    return {status.value: found[status] for status in STATUS_ORDER if found[status]}


def check_delivery(verifier: Verifier, codes: Sequence[str], *, now: dt.datetime) -> DeliveryCheck:
    """Verify every code without counting a scan, flag repeats, group by lot."""
    claimed: dict[int, BatchFacts | None] = {}
    first_seen: dict[str, int] = {}
    checks = []
    stripped = [raw.strip() for raw in codes]
    verdicts = verifier.verify_many(stripped, now=now)
    for position, (code, verdict) in enumerate(zip(stripped, verdicts, strict=True)):
        token = verdict.token
        facts = None
        if token is not None and not verdict.known:
            if token.batch not in claimed:
                claimed[token.batch] = batch_facts(verifier.session, token.batch)
            facts = claimed[token.batch]
        # The same stamp may be written as a URL once and as a token once.
        identity = token.encode() if token is not None else code
        duplicate_of = first_seen.setdefault(identity, position)
        checks.append(
            CodeCheck(
                code=code,
                kind=code_kind(code),
                verdict=verdict,
                claimed=facts,
                duplicate_of=duplicate_of if duplicate_of != position else None,
            )
        )
    return DeliveryCheck(tuple(checks), _group_by_lot(checks))


def _group_by_lot(checks: Sequence[CodeCheck]) -> tuple[LotCheck, ...]:
    groups: dict[str, list[CodeCheck]] = {}
    for check in checks:
        if check.group is not None:
            groups.setdefault(check.group, []).append(check)
    return tuple(
        LotCheck(lot, _product_of(members), tuple(members)) for lot, members in groups.items()
    )


def _product_of(members: Sequence[CodeCheck]) -> str | None:
    # A verified stamp's word first: a forged code's batch number proves nothing.
    verified = [m.product for m in members if m.lot and m.product]
    claimed = [m.product for m in members if m.product]
    return next(iter(verified or claimed), None)


# ---- photos


# Decoding stays inside the distributor's request, bounded before any pixel is
# decoded: the distributor is at the loading dock waiting for the verdict, and a
# queue would only add a page to reload. Every photo's header is read first (its
# size, without decoding), and the request is refused whole, with the reason, when
# one photo or all of them together exceed these budgets. Within them the worst case
# (one 16-megapixel PNG after another, 48 megapixels in all) costs a few seconds of
# one core and about a hundred megabytes, measured in bench/photo_budget.py.
MAX_PHOTO_PIXELS = 16_000_000  # a 16-megapixel phone photo, full size
MAX_REQUEST_PIXELS = 48_000_000  # all the photos of one check together


def photo_size(photo: BinaryIO | bytes, name: str) -> tuple[int, int]:
    """Width and height from the picture's header, nothing decoded; refuses what is
    not a picture of a usual format, and a picture over the per-photo budget."""
    stream = io.BytesIO(photo) if isinstance(photo, bytes) else photo
    Image.init()  # registers WebP and the rest; Pillow loads only a few formats at first
    try:
        with Image.open(stream, formats=PHOTO_FORMATS) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise UnreadableImage(
            "%(name)s: not a picture this service can read (JPEG, PNG, WebP, GIF or BMP)",
            name=name,
        ) from None
    if width * height > MAX_PHOTO_PIXELS:
        raise PhotoTooLarge(
            "%(name)s: %(w)sx%(h)s pixels is more than %(mp)s megapixels; send a smaller photo",
            name=name, w=width, h=height, mp=MAX_PHOTO_PIXELS // 1_000_000,
        )
    return width, height


def check_pixel_budget(sizes: Sequence[tuple[int, int]]) -> None:
    """Refuse photos that together exceed :data:`MAX_REQUEST_PIXELS`."""
    total = sum(width * height for width, height in sizes)
    if total > MAX_REQUEST_PIXELS:
        raise PhotoTooLarge(
            "the photos hold %(mp)s megapixels together, more than %(max)s; send fewer or "
            "smaller photos",
            mp=-(-total // 1_000_000), max=MAX_REQUEST_PIXELS // 1_000_000,
        )


def codes_in_photo(photo: BinaryIO | bytes, name: str) -> list[str]:
    """The QR codes' texts in an uploaded photo (may be empty). Checks the per-photo
    budget first; the caller checks the request's (:func:`check_pixel_budget`).

    Raises :class:`UnreadableImage` for anything but a picture of a usual format.
    """
    data = photo if isinstance(photo, bytes) else photo.read()
    photo_size(data, name)
    try:
        with Image.open(io.BytesIO(data), formats=PHOTO_FORMATS) as image:
            # JPEG decodes at a fraction of its size for free: a stamp needs no more.
            image.draft("L", (2400, 2400))
            image.load()
            return read_codes(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise UnreadableImage(
            "%(name)s: not a picture this service can read (JPEG, PNG, WebP, GIF or BMP)",
            name=name,
        ) from None


# ---- recording the receipt


@dataclass(frozen=True, slots=True)
class Receipt:
    event_id: str
    lots: tuple[str, ...]
    # True when an earlier request with the same id recorded it already.
    replayed: bool = False


def receipt_event_id(organisation: str, key: str) -> str:
    """The event id of ``organisation``'s receipt named ``key`` (a form nonce, a client id)."""
    name = f"{organisation}\n{key}"
    return f"urn:uuid:{uuid.uuid5(_RECEIPT_NAMESPACE, name)}"


def record_receipt(
    session: Session,
    delivery: DeliveryCheck,
    *,
    organisation: str,
    key: str,
    now: dt.datetime,
    reference: str | None = None,
    only: Collection[str] | None = None,
) -> Receipt:
    """Record that ``organisation`` (a tax code) received the lots that passed.

    ``only`` narrows the lots to those the person chose. ``key`` makes the
    receipt idempotent: the same key with the same lots finds the event already
    recorded; with other lots it is refused. The caller commits.
    """
    check_key(key)
    reference = clean_reference(reference)
    chosen = [lot.lot for lot in delivery.passed_lots if only is None or lot.lot in only]
    if not chosen:
        refused = [lot.reason for lot in delivery.refused_lots if lot.reason is not None]
        if not refused:
            raise NothingToReceive(
                "no lot to receive: no code of the delivery belongs to a stamped lot"
            )
        raise NothingToReceive("no lot to receive: %(why)s", why=Joined(refused))
    event_id = receipt_event_id(organisation, key)
    documents = [{"type": "desadv", "id": reference}] if reference else None
    existing = session.scalars(select(Event).where(Event.event_id == event_id)).one_or_none()
    if existing is not None:
        return _replay(existing, chosen, organisation, documents, key)
    event: dict[str, Any] = {
        "id": event_id,
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "biz_step": "receiving",
        "time": now.astimezone(VIETNAM).isoformat(timespec="seconds"),
        "organisation": organisation,
        # No quantity: a stock check often scans a sample, not every pack.
        "lots": [{"lot": lot} for lot in chosen],
    }
    if documents:
        event["documents"] = documents
    import_records(session, {"format": FORMAT, "events": [event]}, now=now)
    return Receipt(event_id, tuple(chosen))


def _replay(
    event: Event,
    chosen: Sequence[str],
    organisation: str,
    documents: list[dict[str, str]] | None,
    key: str,
) -> Receipt:
    stored = [link.lot.code for link in event.lots]
    same = (
        event.biz_step == "receiving"
        and event.organisation.tax_code == organisation
        and sorted(stored) == sorted(chosen)
        and (event.documents or None) == documents
    )
    if not same:
        raise ReceiptConflict(
            "the id %(key)r was already used for another receipt (%(event)s); "
            "check the delivery again to record a new one",
            key=key[:60],
            event=event.event_id,
        )
    return Receipt(event.event_id, tuple(stored), replayed=True)


def check_key(key: str) -> None:
    """Refuse a receipt id that cannot name an event."""
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise ReceivingRefused(
            "a receipt id is text of 1 to %(most)s characters", most=MAX_KEY_LENGTH
        )
    if any(unicodedata.category(ch)[0] == "C" for ch in key):
        raise ReceivingRefused("a receipt id must not contain control characters")


def clean_reference(reference: str | None) -> str | None:
    """The delivery note number as stored (NFC, stripped), or None; refuses junk."""
    if reference is None:
        return None
    if not isinstance(reference, str):
        raise ReceivingRefused("the delivery note number must be text")
    text = unicodedata.normalize("NFC", reference).strip()
    if len(text) > MAX_REFERENCE_LENGTH:
        raise ReceivingRefused(
            "the delivery note number has at most %(most)s characters",
            most=MAX_REFERENCE_LENGTH,
        )
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise ReceivingRefused("the delivery note number must not contain control characters")
    return text or None


__all__ = [
    "DUPLICATE",
    "NOT_A_STAMP",
    "CodeCheck",
    "CodeKind",
    "DeliveryCheck",
    "LotCheck",
    "Receipt",
    "check_delivery",
    "check_key",
    "check_pixel_budget",
    "clean_reference",
    "code_kind",
    "codes_in_photo",
    "photo_size",
    "receipt_event_id",
    "record_receipt",
]
