"""Import documents for the trace tests: a small valid chain to break one field at a time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocop.trace.models import (
    Address,
    Certification,
    Event,
    EventLot,
    Facility,
    Lot,
    Organisation,
    Product,
    Recall,
)

TABLES = (Organisation, Address, Facility, Product, Certification, Lot, Event, EventLot, Recall)

COOP = "1009990001"
SHOP = "0109990002"
GTIN = "8936045120019"


def event_id(n: int | str) -> str:
    return f"urn:uuid:00000000-0000-4000-8000-{n:0>12}"


def chain() -> dict[str, Any]:
    """Rice and peanuts harvested, made into bánh cáy, shipped and received."""
    return {
        "organisations": [
            {
                "tax_code": COOP,
                "kind": "cooperative",
                "name": "HTX Thử nghiệm",
                "addresses": [
                    {
                        "commune": "xã Nguyên Xá",
                        "district": "huyện Đông Hưng",
                        "province": "tỉnh Thái Bình",
                        "effective_from": "2023-01-01",
                    }
                ],
            },
            {"tax_code": SHOP, "kind": "distributor", "name": "Cửa hàng Thử nghiệm"},
        ],
        "facilities": [
            {
                "code": "AREA",
                "organisation": COOP,
                "kind": "raw_material_area",
                "name": "Vùng nếp",
                "planting_area_code": "TB-01",
                "crop": "Lúa nếp",
                "area_ha": 2.5,
                "latitude": 20.55,
                "longitude": 106.35,
            },
            {"code": "PLANT", "organisation": COOP, "kind": "processing_plant", "name": "Xưởng"},
            {"code": "SHOP-HN", "organisation": SHOP, "kind": "warehouse", "name": "Kho Hà Nội"},
        ],
        "products": [
            {"code": "BC", "producer": COOP, "name": "Bánh cáy", "gtin": GTIN},
        ],
        "certifications": [
            {
                "scheme": "ocop",
                "number": "OCOP-1",
                "product": "BC",
                "stars": 4,
                "score": 78,
                "level": "province",
                "issuing_body": "UBND tỉnh Thái Bình",
                "valid_from": "2024-09-20",
            }
        ],
        "lots": [
            {"code": "RICE", "item": "Gạo nếp", "facility": "AREA", "quantity": 100, "unit": "kg"},
            {"code": "NUTS", "item": "Lạc", "facility": "AREA", "quantity": 20, "unit": "kg"},
            {
                "code": "BC-1",
                "product": "BC",
                "facility": "PLANT",
                "produced_on": "2025-09-15",
                "best_before": "2026-03-15",
                "quantity": 300,
                "unit": "box",
            },
        ],
        "events": [
            {
                "id": event_id(1),
                "type": "ObjectEvent",
                "action": "ADD",
                "biz_step": "harvesting",
                "time": "2025-06-12T06:30:00+07:00",
                "facility": "AREA",
                "lots": [{"lot": "RICE", "quantity": 100, "unit": "kg"}],
            },
            {
                "id": event_id(2),
                "type": "ObjectEvent",
                "action": "ADD",
                "biz_step": "harvesting",
                "time": "2025-06-20T06:30:00+07:00",
                "facility": "AREA",
                "lots": [{"lot": "NUTS", "quantity": 20, "unit": "kg"}],
            },
            {
                "id": event_id(3),
                "type": "TransformationEvent",
                "biz_step": "transforming",
                "time": "2025-09-15T05:30:00+07:00",
                "facility": "PLANT",
                "inputs": [
                    {"lot": "RICE", "quantity": 60, "unit": "kg"},
                    {"lot": "NUTS", "quantity": 10, "unit": "kg"},
                ],
                "outputs": [{"lot": "BC-1", "quantity": 300, "unit": "box"}],
            },
            {
                "id": event_id(4),
                "type": "ObjectEvent",
                "action": "OBSERVE",
                "biz_step": "shipping",
                "disposition": "in_transit",
                "time": "2025-09-20T06:00:00+07:00",
                "facility": "PLANT",
                "lots": [{"lot": "BC-1", "quantity": 100, "unit": "box"}],
                "documents": [{"type": "desadv", "id": "PXK-1"}],
            },
            {
                "id": event_id(5),
                "type": "ObjectEvent",
                "action": "OBSERVE",
                "biz_step": "receiving",
                "time": "2025-09-20T15:00:00+07:00",
                "facility": "SHOP-HN",
                "organisation": SHOP,
                "lots": [{"lot": "BC-1", "quantity": 100, "unit": "box"}],
            },
        ],
    }


def row_counts(session: Session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in TABLES
    }
