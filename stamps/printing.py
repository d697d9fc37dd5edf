"""Issue a batch and write its print file: the one workflow the CLI, the demo
and the console share.

It spans two short transactions on purpose (see :mod:`.issuance`): the batch
row is committed as ``issuing`` before the long write, and marked ``issued``
only once the file is complete under its final name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ocop.keys import active_key, signing_authority
from ocop.keys.keystore import Keystore
from ocop.trace.db import Database, utcnow, vietnam_today
from ocop.trace.queries import find_lot

from .errors import OutputNotWritable, UsageProblem
from .issuance import finish_batch, generate_stamps, open_batch
from .outputs import OutputKind, Progress, label_text, write_output
from .pin import PinSecret
from .render.labels import LabelLayout

# Below this many codes, starting encoder processes costs more than it saves.
PARALLEL_FROM = 5_000


def encoder_workers(count: int) -> int:
    return min(os.cpu_count() or 1, 4) if count >= PARALLEL_FROM else 1


@dataclass(frozen=True, slots=True)
class PrintJob:
    lot_code: str
    count: int
    out: Path
    pin_secret: PinSecret | None = None
    org_id: int | None = None
    layout: LabelLayout | None = None
    svg: bool = False
    # Straight to the authority's printer: active at once unless asked to stay inert.
    activate: bool = True


@dataclass(frozen=True, slots=True)
class IssuedBatch:
    batch: int
    count: int
    kid: str
    out: Path
    pin: bool

    def to_json(self) -> dict[str, object]:
        return {
            "batch": self.batch,
            "count": self.count,
            "kid": self.kid,
            "out": str(self.out),
            "pin": self.pin,
        }


def issue_and_write(
    database: Database,
    keystore: Keystore,
    job: PrintJob,
    *,
    base_url: str,
    actor: str,
    on_stamp: Progress | None = None,
) -> IssuedBatch:
    OutputKind.for_path(job.out)
    if not job.out.parent.is_dir():
        raise UsageProblem(
            "cannot write %(path)s: folder %(folder)s does not exist",
            path=job.out,
            folder=job.out.parent,
        )
    today = vietnam_today()
    with database.transaction() as session:
        key = active_key(session, signing_authority(session, job.org_id))
        # Unlock before writing anything: a wrong passphrase leaves no batch behind.
        signer = keystore.load(key.kid)
        lot = find_lot(session, job.lot_code)
        batch = open_batch(
            session,
            lot,
            key,
            count=job.count,
            pin=job.pin_secret is not None,
            actor=actor,
            today=today,
        )
        text = label_text(session, lot, today)
        batch_id, kid = batch.id, key.kid
    stamps = generate_stamps(
        signer, batch_id, job.count, base_url=base_url, pin_secret=job.pin_secret
    )
    try:
        write_output(
            job.out,
            stamps,
            text=text,
            layout=job.layout,
            svg=job.svg,
            on_stamp=on_stamp,
            workers=encoder_workers(job.count),
        )
    except BaseException as error:
        with database.transaction() as session:
            finish_batch(session, batch_id, ok=False, now=utcnow())
        if isinstance(error, OSError):  # a full disk, a vanished folder: the user's to fix
            raise OutputNotWritable(
                "writing %(path)s failed: %(problem)s", path=job.out, problem=error.strerror
            ) from None
        raise
    with database.transaction() as session:
        finish_batch(
            session, batch_id, ok=True, now=utcnow(), activated_by=actor if job.activate else None
        )
    return IssuedBatch(batch_id, job.count, kid, job.out, job.pin_secret is not None)


def rewrite_output(
    database: Database,
    keystore: Keystore,
    batch_id: int,
    out: Path,
    *,
    base_url: str,
    pin_secret: PinSecret | None,
    layout: LabelLayout | None = None,
) -> Path:
    """Write an issued batch's print file again: the stamps are the same every time."""
    from .models import BatchStatus, StampBatch

    with database.transaction() as session:
        batch = session.get(StampBatch, batch_id)
        if batch is None or batch.status is not BatchStatus.ISSUED:
            raise UsageProblem("batch %(batch)s is not an issued batch", batch=batch_id)
        signer = keystore.load(batch.key.kid)
        text = label_text(session, batch.lot, vietnam_today())
        count, with_pin = batch.count, batch.pin
    stamps = generate_stamps(
        signer, batch_id, count, base_url=base_url, pin_secret=pin_secret if with_pin else None
    )
    write_output(out, stamps, text=text, layout=layout, workers=encoder_workers(count))
    return out


__all__ = ["IssuedBatch", "PrintJob", "issue_and_write", "rewrite_output"]
