"""Standards applied and registered trademarks of an import file's products and places.

Circular 02/2024/TT-BKHCN fields 10 and 8; read like every other record, each
into a typed spec by its own rules (see :mod:`.records`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..errors import InvalidRecord
from ..models import StandardKind
from .reading import Fields
from .vocabulary import FIELDS


@dataclass(slots=True)
class StandardSpec:
    path: str
    kind: StandardKind
    code: str
    title: str | None


@dataclass(slots=True)
class TrademarkSpec:
    path: str
    mark: str
    number: str
    owner: str
    filed_on: dt.date | None
    granted_on: dt.date | None
    classes: str | None
    office: str


# The IP office of Vietnam, which registers nearly every OCOP product's mark.
VIETNAM_IP_OFFICE = "Cục Sở hữu trí tuệ"


def read_standards(r: Fields) -> list[StandardSpec]:
    out: list[StandardSpec] = []
    seen: set[tuple[StandardKind, str]] = set()
    for i, item in enumerate(r.array("standards")):
        f = Fields(item, f"{r.at('standards')}[{i}]", FIELDS["standards"])
        kind = f.enum("kind", StandardKind)
        assert kind is not None
        spec = StandardSpec(f.path, kind, f.required_text("code", limit=40), f.text("title"))
        if (kind, spec.code) in seen:
            raise InvalidRecord("%(code)s is listed twice", f.path, code=spec.code)
        seen.add((kind, spec.code))
        out.append(spec)
    return out


def read_trademark(r: Fields) -> TrademarkSpec:
    spec = TrademarkSpec(
        path=r.path,
        mark=r.required_text("mark"),
        number=r.required_text("number", limit=40),
        owner=r.required_text("owner"),
        filed_on=r.date("filed_on"),
        granted_on=r.date("granted_on"),
        classes=r.text("classes", limit=40),
        office=r.text("office") or VIETNAM_IP_OFFICE,
    )
    if spec.filed_on and spec.granted_on and spec.granted_on < spec.filed_on:
        raise InvalidRecord("a trademark is granted after it is filed", r.at("granted_on"))
    return spec


__all__ = ["StandardSpec", "TrademarkSpec", "read_standards", "read_trademark"]
