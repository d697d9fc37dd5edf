"""The distributors' API: receiving calls authenticated by API token.

``POST /api/v1/receiving`` with ``Authorization: Bearer ocop_...`` and
``{"codes": [...], "reference": "PXK-...", "id": "..."}`` verifies every code
(counting no scan, like the bulk verify), records one receiving event for the
lots whose codes all passed, and says which lots were refused and why. The
optional ``id`` makes a retry safe: the same id and lots find the event that
was recorded the first time. Errors are RFC 9457 problem+json.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from ocop.trace.db import utcnow
from ocop.trace.errors import TraceError
from ocop.workflows import audit
from ocop.workflows.errors import ReceiptConflict, ReceivingRefused
from ocop.workflows.receiving import (
    CodeCheck,
    DeliveryCheck,
    check_delivery,
    check_key,
    clean_reference,
    record_receipt,
)

from ..api import ApiCaller, api_caller, bulk_codes, unauthorised
from ..database import write_transaction
from ..errors import domain_problem, problem
from ..messages import say
from ..presenters import verdict_json
from ..verifying import verifier

api_bp = Blueprint("receiving_api", __name__, url_prefix="/api/v1")

_FIELDS = frozenset({"codes", "reference", "id"})


@api_bp.post("/receiving")
def receive() -> Response:
    now = utcnow()
    caller = api_caller()
    if caller is None:
        return unauthorised()
    codes = bulk_codes()
    if isinstance(codes, Response):
        return codes
    body: dict[str, Any] = request.get_json(silent=True, force=True)
    options = _options(body)
    if isinstance(options, Response):
        return options
    key, reference = options
    delivery = check_delivery(verifier(), codes, now=now)
    answer = _answer(delivery)
    if not delivery.passed_lots:
        return problem(
            422,
            "Nothing received",
            "no lot passed the check, so nothing was recorded; "
            "a lot is received only when every code of it is genuine",
            received=[],
            **answer,
        )
    with write_transaction() as writer:
        try:
            receipt = record_receipt(
                writer,
                delivery,
                organisation=caller.tax_code,
                key=key,
                reference=reference,
                now=now,
            )
        except ReceiptConflict as conflict:
            return domain_problem(409, conflict)
        except ReceivingRefused as refused:
            return domain_problem(400, refused)
        except TraceError as refused:  # another write met this one; a retry settles it
            return domain_problem(409, refused)
        if not receipt.replayed:
            _audit(writer, caller, receipt.event_id, delivery, receipt.lots, reference)
    received = [
        {"lot": lot.lot, "codes": len(lot.codes), "event_id": receipt.event_id}
        for lot in delivery.lots
        if lot.lot in receipt.lots
    ]
    response = jsonify(
        {
            "id": key,
            "event_id": receipt.event_id,
            "replayed": receipt.replayed,
            "received": received,
            **answer,
        }
    )
    # A retry that found the first receipt created nothing.
    response.status_code = 200 if receipt.replayed else 201
    response.headers["Cache-Control"] = "no-store"
    return response


def _options(body: dict[str, Any]) -> tuple[str, str | None] | Response:
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        return problem(
            400,
            "Invalid request",
            f"unknown field {unknown[0]!r}; the body has codes, and optionally reference and id",
            invalid_params=[{"name": name, "reason": "unknown field"} for name in unknown],
        )
    key = body.get("id")
    try:
        if key is not None:
            if not isinstance(key, str):
                raise ReceivingRefused("id must be a string")
            check_key(key)
        reference = clean_reference(body.get("reference"))
    except ReceivingRefused as refused:
        return domain_problem(400, refused)
    # Without an id a retry cannot be told from a new delivery: each call is its own.
    return key or secrets.token_urlsafe(24), reference


def _answer(delivery: DeliveryCheck) -> dict[str, Any]:
    return {
        "results": [_result(code) for code in delivery.codes],
        "refused": [
            {"lot": lot.lot, "reason": say(lot.reason) if lot.reason else None}
            for lot in delivery.refused_lots
        ],
        "summary": delivery.summary(),
    }


def _result(check: CodeCheck) -> dict[str, Any]:
    code = check.code
    out: dict[str, Any] = {"code": code if len(code) <= 200 else code[:200] + "…"}
    out.update(verdict_json(check.verdict))
    out.update(
        kind=check.kind.value,
        status=check.status.value,
        reasons=list(check.reasons),
        lot=check.lot,
        product=check.product if check.lot else None,
        duplicate_of=check.duplicate_of,
    )
    if check.lot is None and check.claimed_lot is not None:
        out["claims_lot"] = check.claimed_lot
    return out


def _audit(
    session: Session,
    caller: ApiCaller,
    event_id: str,
    delivery: DeliveryCheck,
    lots: tuple[str, ...],
    reference: str | None,
) -> None:
    audit.record_system(
        session,
        caller.label,
        "receiving.record",
        event_id,
        {
            "lots": list(lots),
            "codes": sum(len(lot.codes) for lot in delivery.lots if lot.lot in lots),
            "reference": reference,
            "refused": [lot.lot for lot in delivery.refused_lots],
            "via": "api",
        },
        # The log is read by organisation; a token speaks for its organisation.
        organisation_id=caller.organisation_id,
        ip=request.remote_addr,
    )
