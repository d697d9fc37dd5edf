"""Importing value-chain records from one JSON document: all or nothing, idempotent.

The format is described in ``docs/import-format.md``. The import runs in three
phases so that one bad record writes nothing:

1. *read* (:mod:`.reading`, :mod:`.records`): the bytes become JSON and every
   record a typed spec, or :class:`InvalidRecord` names its JSON path
   (``$.certifications[2].valid_until``) and what is wrong;
2. *check* (:mod:`.checking`, :mod:`.comparing`): references are resolved
   against the file and the database (a few bulk SELECTs, never one per record),
   records already stored are compared with the file, and new transformations
   are checked for loops in the genealogy;
3. *write* (:mod:`.writing`): bulk INSERTs inside a SAVEPOINT, so that even a
   failure there (a concurrent import of the same records) leaves the caller's
   transaction as it was.

The words of the format (sections, CBV vocabulary, units) are in
:mod:`.vocabulary`. The caller owns the transaction: nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from ..db import utcnow
from .checking import Import
from .comparing import ImportSummary, compare
from .reading import collector_paused, load_import_file, parse_import_bytes, sample_data
from .records import read_records
from .vocabulary import (
    BIZ_STEPS,
    CBV_BIZ_STEPS,
    DEFAULT_VALIDITY_MONTHS,
    FORMAT,
    OCOP_BIZ_STEPS,
    UNITS,
    is_uri,
)
from .writing import write


def import_records(
    session: Session,
    data: Mapping[str, Any],
    *,
    sample: bool = False,
    now: dt.datetime | None = None,
) -> ImportSummary:
    """Import ``data`` (the JSON format of docs/import-format.md) into ``session``.

    All or nothing: the first problem raises :class:`InvalidRecord` (or a subclass)
    naming its JSON path, and nothing is written. Importing the same data again
    creates nothing. The caller commits.
    """
    now = now or utcnow()
    with collector_paused():
        job = Import(session, read_records(data, now), sample=sample, now=now)
        job.load()
        job.check_references()
        job.check_unique_identifiers()
        plan = compare(job)
        job.check_corrections(plan.new_events)
        job.check_genealogy(plan.new_events)
        write(job, plan)
    return plan.tally.summary()


def load_sample(session: Session) -> ImportSummary:
    """Load the demo records through the ordinary import, marked as sample; safe to rerun."""
    return import_records(session, sample_data(), sample=True)


__all__ = [
    "BIZ_STEPS",
    "CBV_BIZ_STEPS",
    "DEFAULT_VALIDITY_MONTHS",
    "FORMAT",
    "OCOP_BIZ_STEPS",
    "UNITS",
    "ImportSummary",
    "import_records",
    "is_uri",
    "load_import_file",
    "load_sample",
    "parse_import_bytes",
    "sample_data",
]
