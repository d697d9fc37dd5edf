"""The audit log, for authority officers: newest first, filtered, a page at a time.

Pages are keyset-paged by id (``before``): a log that grows while someone reads
it never shows an entry twice or skips one, and page 1,000 costs what page 1 does.
"""

from __future__ import annotations

import json

from flask import render_template, request
from sqlalchemy import select

from ocop.trace.models import Organisation
from ocop.workflows.audit import entries

from ..database import request_session
from ..guards import query_id
from . import bp
from .access import requires

PAGE = 50


@bp.get("/audit")
@requires("audit.view")
def audit() -> str:
    session = request_session()
    action = request.args.get("action", "").strip()[:60]
    org_id, before = query_id("org"), query_id("before")
    rows = entries(
        session,
        action=action or None,
        organisation_id=org_id,
        before_id=before,
        limit=PAGE + 1,
    )
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    organisations = session.execute(
        select(Organisation.id, Organisation.name).order_by(Organisation.name)
    ).all()
    return render_template(
        "console/audit_list.html",
        rows=rows,
        action=action,
        org_id=org_id,
        organisations=organisations,
        org_names=dict(organisations),
        detail_text=_detail_text,
        next_before=rows[-1].id if more else None,
    )


def _detail_text(detail: object) -> str:
    if not detail:
        return ""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
