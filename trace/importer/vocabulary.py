"""The words and limits of the import format (docs/import-format.md).

What the format calls things (its sections and the fields of each record, the
CBV business steps, dispositions and document types, the units people write),
the certificate rules that are numbers rather than code (validity, star bands),
the limits on times and quantities, and the syntax of an event's URIs. The EPCIS
export and the console read these too, so they live apart from the code that
reads and writes records.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import urlsplit

FORMAT = "ocop-trace-import/1"
SECTIONS = (
    "organisations",
    "facilities",
    "products",
    "certifications",
    "lots",
    "events",
    "recalls",
)
KINDS = ("organisations", "addresses", *SECTIONS[1:])

# The fields each kind of record may have: any other is a typing mistake, refused.
FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(fields)
    for name, fields in {
    "organisations": (
        "tax_code", "kind", "name", "short_name", "phone", "email", "website", "addresses",
        "council",
    ),
    "addresses": ("street", "commune", "district", "province", "country", "effective_from", "note"),
    "facilities": (
        "code", "organisation", "kind", "name", "gln", "planting_area_code", "crop", "area_ha",
        "latitude", "longitude", "address", "standards",
    ),
    "products": (
        "code", "producer", "name", "short_name", "description", "gtin", "image", "sector",
        "group", "product_set", "taxonomy_basis", "standards", "trademarks",
    ),
    "standards": ("kind", "code", "title"),
    "trademarks": (
        "mark", "number", "owner", "filed_on", "granted_on", "classes", "office",
    ),
    "certifications": (
        "scheme", "number", "product", "facility", "stars", "score", "level", "issuing_body",
        "decision_number", "decision_date", "legal_basis", "valid_from", "valid_until", "status",
        "status_reason",
    ),
    "lots": (
        "code", "product", "item", "facility", "owner", "produced_on", "best_before", "quantity",
        "unit",
    ),
    "events": (
        "id", "type", "action", "biz_step", "disposition", "time", "facility", "organisation",
        "lots", "parent", "inputs", "outputs", "documents", "corrects", "reason",
    ),
    "links": ("lot", "quantity", "unit"),
    "documents": ("type", "id"),
    "recalls": ("lot", "notice", "by", "at"),
}.items()
}  # fmt: skip

# OCOP certificates last 36 months (148/QĐ-TTg) unless the decision says otherwise.
DEFAULT_VALIDITY_MONTHS = 36

# 148/QĐ-TTg (and 1048/QĐ-TTg before it): the 100-point score decides the stars.
STAR_BANDS = {
    3: (Decimal(50), Decimal(70)),
    4: (Decimal(70), Decimal(90)),
    5: (Decimal(90), Decimal(101)),
}

# CBV 2.0 business steps, as the EPCIS schema lists them.
# fmt: off
CBV_BIZ_STEPS = frozenset((
    "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
    "creating_class_instance", "cycle_counting", "decommissioning", "departing",
    "destroying", "disassembling", "dispensing", "encoding", "entering_exiting", "holding",
    "inspecting", "installing", "killing", "loading", "other", "packing", "picking",
    "receiving", "removing", "repackaging", "repairing", "replacing", "reserving",
    "retail_selling", "shipping", "staging_outbound", "stock_taking", "stocking", "storing",
    "transporting", "unloading", "unpacking", "void_shipping", "sensor_reporting",
    "sampling",
))
# fmt: on
# Steps of a farm-to-shelf chain that CBV has no word for; exported as urn:ocop:bizstep:*.
OCOP_BIZ_STEPS = frozenset({"planting", "harvesting", "transforming"})
BIZ_STEPS = CBV_BIZ_STEPS | OCOP_BIZ_STEPS

# fmt: off
CBV_DISPOSITIONS = frozenset((
    "active", "container_closed", "damaged", "destroyed", "dispensed", "disposed",
    "encoded", "expired", "in_progress", "in_transit", "inactive", "no_pedigree_match",
    "non_sellable_other", "partially_dispensed", "recalled", "reserved", "retail_sold",
    "returned", "sellable_accessible", "sellable_not_accessible", "stolen", "unknown",
    "available", "completeness_verified", "completeness_inferred", "conformant",
    "container_open", "mismatch_instance", "mismatch_class", "mismatch_quantity",
    "needs_replacement", "non_conformant", "unavailable",
))
# fmt: on

# CBV business transaction types: what a document attached to an event may be.
# fmt: off
DOCUMENT_TYPES = frozenset((
    "bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma",
    "testprd", "testres", "upevt",
))
# fmt: on

# Units people write, with the UN/ECE Recommendation 20 code EPCIS wants.
UNITS = {
    "kg": "KGM",
    "g": "GRM",
    "t": "TNE",
    "l": "LTR",
    "ml": "MLT",
    "piece": "H87",
    "box": "XBX",
    "bag": "XBG",
    "pack": "XPK",
}
# Any other unit must be a UN/ECE Recommendation 20 code.
UNECE_CODE = re.compile(r"^[A-Z0-9]{2,3}$")

# RFC 3986 characters only: what EPCIS's "uri" format accepts.
_URI_CHARS = r"[A-Za-z0-9\-._~:/?@!$&'()*+,;=%]"
_URI = re.compile(rf"^[A-Za-z][A-Za-z0-9+.\-]*:{_URI_CHARS}+(#{_URI_CHARS}*)?$")
# An authority (after "//"): [userinfo@]host[:port], no brackets (no IPv6 literals).
_AUTHORITY = re.compile(r"^([A-Za-z0-9\-._~!$&'()*+,;=%:]*@)?[A-Za-z0-9\-._~!$&'()*+,;=%]*(:\d*)?$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

# Events stamped more than this after now are typing mistakes (2062 for 2026).
FUTURE_TOLERANCE = dt.timedelta(days=1)

# SQLite keeps quantities as REAL: 15 significant digits are exact, so at most
# 12 before the point with the 3 after it.
MAX_QUANTITY = Decimal(10**12)


def is_uri(value: str) -> bool:
    """True for an absolute URI of RFC 3986 characters, which EPCIS accepts."""
    if not _URI.match(value) or _BAD_PERCENT.search(value):
        return False
    scheme_end = value.index(":")
    if not value.startswith("//", scheme_end + 1):
        return True
    return bool(_AUTHORITY.match(urlsplit(value).netloc))


__all__ = [
    "BIZ_STEPS",
    "CBV_BIZ_STEPS",
    "CBV_DISPOSITIONS",
    "DEFAULT_VALIDITY_MONTHS",
    "DOCUMENT_TYPES",
    "FIELDS",
    "FORMAT",
    "FUTURE_TOLERANCE",
    "KINDS",
    "MAX_QUANTITY",
    "OCOP_BIZ_STEPS",
    "SECTIONS",
    "STAR_BANDS",
    "UNECE_CODE",
    "UNITS",
    "is_uri",
]
