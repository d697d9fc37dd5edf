"""``ocop trace``: import, list, show and export the value-chain records.

Thin edges: parse the arguments, call the functions of this package inside one
transaction, print. Errors are :class:`TraceError`, which the ``ocop`` group
turns into one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from . import cli_resources
from .db import VIETNAM, Database, database_not_ready, vietnam_today
from .epcis import epcis_document, local_event_time
from .errors import DomainError, TraceError
from .genealogy import LotLink, LotTree, journey, one_step_back, one_step_forward, upstream_tree
from .importer import import_records, load_import_file
from .models import Certification, Event, Facility, Lot
from .queries import find_lot, latest_ocop_certificate, list_lots, list_organisations

trace_cli = click.Group("trace", help="Value-chain records: import, list, show, export (EPCIS).")

# Beyond this depth the tree stops indenting, so a thousand generations stay readable.
_MAX_INDENT = 24
# Where the ``ocop`` command (web/cli.py) keeps its way of saying an error in the
# terminal's language; the catalogue is the web package's, so it is handed down.
SAY = "ocop.say"


def say(error: DomainError) -> str:
    """``error`` as the ``ocop`` command says errors: for a command that prints one itself."""
    context = click.get_current_context(silent=True)
    speak = context.meta.get(SAY) if context is not None else None
    return speak(error) if speak is not None else str(error)


def _database() -> Database:
    return cli_resources.database()


@contextmanager
def _session() -> Iterator[Session]:
    """One transaction for the command; a missing schema becomes a one-line hint."""
    try:
        with _database().transaction() as session:
            yield session
    except (OperationalError, ProgrammingError) as error:
        raise database_not_ready(error) from None


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: object) -> Any:
    if isinstance(value, Decimal):
        return _number(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


# --------------------------------------------------------------------------- import


@trace_cli.command("import")
# Plain paths: a missing file or a folder gets our one-line error, not click's usage text.
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--check", is_flag=True, help="Validate only: report what would change, write nothing."
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def import_command(file: Path, check: bool, as_json: bool) -> None:
    """Import value-chain records from FILE (docs/import-format.md), all or nothing."""
    data = load_import_file(file)
    with _session() as session:
        summary = import_records(session, data)
        if check:
            session.rollback()
    if as_json:
        _echo_json({"file": str(file), "checked_only": check, "records": summary.to_json()})
        return
    verb = "Checked (nothing written)" if check else "Imported"
    click.echo(f"{verb} {file}: {summary}")


# --------------------------------------------------------------------------- lots


@trace_cli.command("lots")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def lots_command(as_json: bool) -> None:
    """List every lot, newest first, and whether it may get OCOP stamps today."""
    with _session() as session:
        lots = list_lots(session, vietnam_today())
    if as_json:
        _echo_json([lot.to_json() for lot in lots])
        return
    if not lots:
        click.echo("No lots recorded yet; import some with `ocop trace import FILE.json`.")
        return
    rows = [
        (
            lot.code,
            _clip(lot.item, 32),
            _clip(lot.producer, 34),
            lot.produced_on.isoformat() if lot.produced_on else "",
            _stampable(lot.stampable, lot.stars, lot.recalled, is_product=lot.product is not None),
        )
        for lot in lots
    ]
    _table(("LOT", "WHAT", "PRODUCER", "PRODUCED", "STAMPABLE"), rows)


def _stampable(stampable: bool, stars: int | None, recalled: bool, *, is_product: bool) -> str:
    if not is_product:
        return "- (raw material)"
    text = f"yes ({stars}★)" if stampable else "no (no valid OCOP certificate)"
    return f"{text}, RECALLED" if recalled else text


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


# --------------------------------------------------------------------------- organisations


@trace_cli.command("orgs")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def orgs_command(as_json: bool) -> None:
    """List every organisation with its id (for `ocop users add --org ID`), kind and tax code."""
    with _session() as session:
        rows: list[dict[str, Any]] = [
            {"id": org.id, "kind": org.kind.value, "tax_code": org.tax_code, "name": org.name}
            for org in list_organisations(session)
        ]
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("No organisations recorded yet; run `ocop init` or `ocop trace import FILE`.")
        return
    cells = [(str(r["id"]), str(r["kind"]), str(r["tax_code"]), _clip(r["name"], 60)) for r in rows]
    _table(("ID", "KIND", "TAX CODE", "NAME"), cells)


# --------------------------------------------------------------------------- show


@trace_cli.command("show")
@click.argument("lot_code", metavar="LOT")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show_command(lot_code: str, as_json: bool) -> None:
    """Show LOT: one step back, one step forward, its upstream tree and its journey."""
    with _session() as session:
        lot = find_lot(session, lot_code)
        back, forward = one_step_back(session, lot), one_step_forward(session, lot)
        tree, events = upstream_tree(session, lot), journey(session, lot)
        cert = (
            latest_ocop_certificate(session, lot.product, vietnam_today()) if lot.product else None
        )
        if as_json:
            _echo_json(_show_json(lot, cert, back, forward, tree, events))
        else:
            _show_text(lot, cert, back, forward, tree, events)


def _show_json(
    lot: Lot,
    cert: Certification | None,
    back: list[LotLink],
    forward: list[LotLink],
    tree: LotTree,
    events: list[Event],
) -> dict[str, Any]:
    today = vietnam_today()
    return {
        "lot": _lot_json(lot),
        "ocop_certificate": None
        if cert is None
        else {
            "number": cert.number,
            "stars": cert.stars,
            "valid_from": cert.valid_from.isoformat(),
            "valid_until": cert.valid_until.isoformat(),
            "status": cert.status_on(today).value,
        },
        "stampable": bool(cert and cert.is_valid_on(today)),
        "one_step_back": [_link_json(x) for x in back],
        "one_step_forward": [_link_json(x) for x in forward],
        "upstream": tree.to_json(),
        "journey": [_event_json(e) for e in events],
    }


def _lot_json(lot: Lot) -> dict[str, Any]:
    return {
        "code": lot.code,
        "item": lot.description,
        "product": lot.product.code if lot.product else None,
        "gtin": lot.product.gtin if lot.product else None,
        "producer": lot.product.producer.name if lot.product else None,
        "owner": lot.owner.name,
        "facility": lot.facility.code if lot.facility else None,
        "produced_on": lot.produced_on.isoformat() if lot.produced_on else None,
        "best_before": lot.best_before.isoformat() if lot.best_before else None,
        "quantity": _number(lot.quantity),
        "unit": lot.unit,
        "recalls": [{"notice": r.notice, "at": r.recalled_at.isoformat()} for r in lot.recalls],
    }


def _link_json(link: LotLink) -> dict[str, Any]:
    return {
        "lot": link.lot.code,
        "item": link.lot.description,
        "quantity": _number(link.quantity),
        "unit": link.unit,
        "event": link.event.event_id,
        "time": _local(link.event),
    }


def _event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "type": event.type.value,
        "biz_step": event.biz_step,
        "time": _local(event),
        "facility": event.facility.code if event.facility else None,
        "organisation": event.organisation.name,
        "lots": [
            {
                "lot": x.lot.code,
                "role": x.role.value,
                "quantity": _number(x.quantity),
                "unit": x.unit,
            }
            for x in event.lots
        ],
        "corrects": event.corrects.event_id if event.corrects else None,
        "reason": event.reason,
    }


def _local(event: Event) -> str:
    return local_event_time(event).isoformat()


def _show_text(
    lot: Lot,
    cert: Certification | None,
    back: list[LotLink],
    forward: list[LotLink],
    tree: LotTree,
    events: list[Event],
) -> None:
    today = vietnam_today()
    click.echo(f"Lot {lot.code}: {lot.description}")
    if lot.product is not None:
        click.echo(f"  producer:    {lot.product.producer.name}")
        click.echo(f"  OCOP:        {_certificate_line(cert, today)}")
    else:
        click.echo(f"  owner:       {lot.owner.name} (raw material)")
    if lot.facility is not None:
        click.echo(f"  made at:     {_place(lot.facility)}")
    dates = [f"produced {lot.produced_on}" if lot.produced_on else None]
    dates.append(f"best before {lot.best_before}" if lot.best_before else None)
    dates.append(_amount(lot.quantity, lot.unit))
    click.echo(f"  details:     {', '.join(d for d in dates if d) or '-'}")
    for recall in lot.recalls:
        click.echo(f"  RECALLED {recall.recalled_at.astimezone(VIETNAM):%Y-%m-%d}: {recall.notice}")
    _section("One step back (made from)", [_link_line(x) for x in back])
    _section("One step forward (made into)", [_link_line(x) for x in forward])
    count = len(tree)
    _section(f"Upstream tree ({count} lot{'s' if count != 1 else ''})", _tree_lines(tree))
    _section("Journey", [_journey_line(e) for e in events])


def _certificate_line(cert: Certification | None, today: dt.date) -> str:
    if cert is None:
        return "no OCOP certificate (not stampable)"
    status = cert.status_on(today)
    verdict = "stampable" if cert.is_valid_on(today) else "not stampable"
    return (
        f"{cert.stars}★ certificate {cert.number} ({cert.issuing_body}), "
        f"{cert.valid_from} to {cert.valid_until}: {status} ({verdict})"
    )


def _place(facility: Facility) -> str:
    extra = [facility.kind.value.replace("_", " ")]
    if facility.planting_area_code:
        extra.append(f"planting area {facility.planting_area_code}")
    if facility.crop:
        extra.append(facility.crop)
    if facility.area_ha is not None:
        extra.append(f"{_number(facility.area_ha)} ha")
    if facility.latitude is not None:
        extra.append(f"GPS {facility.latitude}, {facility.longitude}")
    return f"{facility.name} [{facility.code}] ({'; '.join(extra)})"


def _amount(quantity: Decimal | None, unit: str | None) -> str | None:
    if quantity is None:
        return None
    return f"{_number(quantity)} {unit or ''}".strip()


def _section(title: str, lines: list[str]) -> None:
    click.echo(f"\n{title}:")
    for line in lines or ["(none)"]:
        click.echo(f"  {line}")


def _link_line(link: LotLink) -> str:
    amount = _amount(link.quantity, link.unit)
    return (
        f"{link.lot.code}  {link.lot.description}"
        + (f", {amount}" if amount else "")
        + f"  ({link.event.biz_step} {_local(link.event)})"
    )


def _tree_lines(tree: LotTree) -> list[str]:
    lines: list[str] = []
    seen: set[int] = set()
    # (node, amount text, depth, last among its siblings); depth first, in recorded order.
    stack: list[tuple[LotTree, str, int, bool]] = [(tree, "", 0, True)]
    while stack:
        node, amount, depth, last = stack.pop()
        branch = ("└─ " if last else "├─ ") if depth else ""
        indent = "   " * min(max(depth - 1, 0), _MAX_INDENT) + branch
        deep = f"[{depth}] " if depth > _MAX_INDENT else ""
        if node.lot.id in seen:
            lines.append(f"{indent}{deep}{node.lot.code}{amount} (shown above)")
            continue
        seen.add(node.lot.id)
        label = "raw material: " if node.is_raw and depth else ""
        where = f" @ {_place(node.lot.facility)}" if node.lot.facility else ""
        lines.append(f"{indent}{deep}{label}{node.lot.code} {node.lot.description}{amount}{where}")
        for i, link in reversed(list(enumerate(node.inputs))):
            text = _amount(link.quantity, link.unit)
            last_child = i == len(node.inputs) - 1
            stack.append((link.tree, f", {text}" if text else "", depth + 1, last_child))
    return lines


def _journey_line(event: Event) -> str:
    place = event.facility.name if event.facility else "-"
    lots = ", ".join(f"{x.lot.code} ({x.role.value})" for x in event.lots)
    fix = f"  [corrects an earlier record: {event.reason}]" if event.corrects_id else ""
    return f"{_local(event)}  {event.biz_step:<12}  {place}  {event.organisation.name}: {lots}{fix}"


# --------------------------------------------------------------------------- export


@trace_cli.command("export-epcis")
@click.option("--lot", "lot_code", metavar="CODE", help="Only the events of this lot's genealogy.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Write to this file instead of standard output.",
)
def export_epcis_command(lot_code: str | None, out: Path | None) -> None:
    """Export events as an EPCIS 2.0 JSON-LD document."""
    with _session() as session:
        document = epcis_document(session, lot_code, base_url=cli_resources.settings().base_url)
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        raise TraceError(
            "%(path)s: cannot write (%(problem)s)", path=out, problem=error.strerror
        ) from None
    count = len(document["epcisBody"]["eventList"])
    click.echo(f"Wrote {count} events to {out}", err=True)


__all__ = ["trace_cli"]
