"""``ocop stamps``: issue a batch to a printable file; verify a code, URL or picture."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ocop.keys import KeysError, TrustList, keystore_for
from ocop.keys.signedlist import Freshness, VerifiedTrustList, verify_signed_trust_list
from ocop.keys.trustlist import TrustedKey
from ocop.trace import cli_resources
from ocop.trace.cli import say
from ocop.trace.db import Database, utcnow
from ocop.trace.errors import UnreadableNumber
from ocop.trace.numbers import read_number

from .errors import StampError, UnreadableImage, UsageProblem
from .issuance import parse_count
from .offline import VerdictStatus, verify_offline
from .outputs import OutputKind
from .pin import PinSecret
from .printing import PrintJob, issue_and_write
from .render.labels import LabelLayout
from .serial import Serial
from .token import StampToken
from .verify import Verifier

stamps_cli = click.Group("stamps", help="Issue, print and verify signed stamps.")


def _database() -> Database:
    return cli_resources.database()


def _settings() -> Any:
    return cli_resources.settings()


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


class _Millimetres(click.ParamType):
    """A length as people type it: ``0.5`` or ``0,5`` (trace/numbers.py, no grouping)."""

    name = "mm"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            return float(read_number(str(value), grouping=False))
        except UnreadableNumber as error:
            self.fail(str(error), param, ctx)


MM = _Millimetres()


def layout_options(command: Callable[..., None]) -> Callable[..., None]:
    """The PDF's paper, label and QR module options, for every command that prints labels."""
    options = [
        click.option(
            "--paper",
            type=click.Choice(["A4", "A5", "letter", "roll"], case_sensitive=False),
            help="PDF: sheets of labels (A4, the default) or a roll, one label a page.",
        ),
        click.option("--label", "label_size", help="PDF: label size in mm, e.g. 40x30."),
        click.option("--columns", type=int, help="PDF: labels across the page."),
        click.option("--label-width", type=MM, help="PDF: label width in mm."),
        click.option("--label-height", type=MM, help="PDF: label height in mm."),
        click.option("--margin", type=MM, help="PDF: page margin in mm."),
        click.option(
            "--dpi",
            type=click.Choice(["203", "300", "600"]),
            help="PDF: printer resolution (default 600 for sheets, 203 for rolls).",
        ),
        click.option(
            "--module",
            "module_mm",
            type=MM,
            help="PDF: QR module size in mm, a whole number of printer dots "
            "(0.5 at 203 dpi, 0.508 at 300 and 600 dpi).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@stamps_cli.command("issue")
@click.option("--lot", "lot_code", required=True, help="Code of the certified lot.")
@click.option("--count", "raw_count", required=True, help="How many stamps.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file: .pdf label sheets, .csv for a print house, .zip of images.",
)
@click.option("--pin", is_flag=True, help="Add a scratch-off PIN to each stamp.")
@click.option(
    "--inert",
    is_flag=True,
    help="Leave the stamps inert until activated (`ocop stamps activate BATCH FROM TO`).",
)
@click.option("--svg", is_flag=True, help="With .zip: SVG images instead of PNG.")
@click.option("--org", "org_id", type=int, help="Signing authority (when there are several).")
@layout_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def issue_command(
    lot_code: str,
    raw_count: str,
    out: str,
    pin: bool,
    inert: bool,
    svg: bool,
    org_id: int | None,
    as_json: bool,
    **layout: Any,
) -> None:
    """Issue a batch of signed stamps for a certified lot and write the print file.

    PDF labels come on A4 sheets (office printers) or, with --paper roll, one label a
    page the size of the label (label printers). QR modules are whole dots of the
    printer (--dpi): 0.5 mm at 203 dpi, 0.508 mm at 300 and 600 dpi unless --module
    says otherwise; the code gets error correction Q where the label has room, else M.
    See docs/printing.md.
    """
    settings = _settings()
    kind = OutputKind.for_path(out)
    chosen = _layout(kind, **layout)
    job = PrintJob(
        lot_code=lot_code,
        count=parse_count(raw_count, settings.max_batch),
        out=Path(out).resolve(),
        pin_secret=PinSecret(settings.resolved_pin_secret()) if pin else None,
        org_id=org_id,
        layout=chosen,
        svg=svg,
        activate=not inert,
    )
    keystore = keystore_for(settings.instance, os.environ, production=settings.production)
    with _progress(job.count, quiet=as_json) as advance:
        result = issue_and_write(
            _database(),
            keystore,
            job,
            base_url=settings.base_url,
            actor=_actor(),
            on_stamp=advance,
        )
    used = (chosen or LabelLayout()) if kind is OutputKind.PDF else None
    if as_json:
        answer = result.to_json()
        if used is not None:
            answer["labels"] = _layout_json(used)
        click.echo(json.dumps(answer))
    else:
        click.echo(
            f"Batch {result.batch}: {result.count:,} stamps for lot {lot_code}, "
            f"signed by {result.kid}"
        )
        if used is not None:
            click.echo(f"Labels: {used.describe()}")
        click.echo(f"Written to {result.out}")


def _layout(kind: OutputKind, **given: Any) -> LabelLayout | None:
    if all(value is None for value in given.values()):
        return None
    if kind is not OutputKind.PDF:
        raise UsageProblem("label layout options apply to .pdf output only")
    return layout_from_options(**given)


def layout_from_options(
    *,
    paper: str | None = None,
    label_size: str | None = None,
    columns: int | None = None,
    label_width: float | None = None,
    label_height: float | None = None,
    margin: float | None = None,
    dpi: str | None = None,
    module_mm: float | None = None,
) -> LabelLayout:
    """The layout the command line's options describe; a usage error says what is wrong."""
    try:
        # None keeps from_options' default, as an option left out would.
        return LabelLayout.from_options(
            paper=paper or "A4",
            label=label_size,
            columns=columns,
            label_width_mm=label_width,
            label_height_mm=label_height,
            margin_mm=margin,
            dpi=int(dpi) if dpi else None,
            module_mm=module_mm,
        )
    except ValueError as error:
        raise UsageProblem("label layout: %(problem)s", problem=str(error)) from None


def _layout_json(layout: LabelLayout) -> dict[str, object]:
    return {
        "paper": "roll" if layout.roll else "sheet",
        "label_mm": [layout.label_width_mm, layout.label_height_mm],
        "per_page": layout.per_page,
        "module_mm": round(layout.module, 4),
        "module_dots": layout.module_dots,
        "dpi": layout.dpi,
        "error_correction": layout.ec_level,
    }


_PROGRESS_STEP = 1000


@contextmanager
def _progress(total: int, *, quiet: bool) -> Iterator[Callable[[], None] | None]:
    """A progress bar on a terminal, redrawn every thousand stamps; none when piped."""
    if quiet or total < _PROGRESS_STEP or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label="Writing", file=sys.stderr) as bar:
        done = 0

        def advance() -> None:
            nonlocal done
            done += 1
            if done % _PROGRESS_STEP == 0 or done == total:
                bar.update(_PROGRESS_STEP if done % _PROGRESS_STEP == 0 else done % _PROGRESS_STEP)

        yield advance


@stamps_cli.command("verify")
@click.argument("code")
@click.option("--offline", is_flag=True, help="Check against a trust list file only.")
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(dir_okay=False),
    help="Trust list JSON (with --offline).",
)
@click.option(
    "--trust-list",
    "signed_file",
    type=click.Path(dir_okay=False),
    help="Signed trust list (.jws, from /.well-known/ocop-trust.jws): offline, with --root.",
)
@click.option(
    "--root",
    "roots",
    multiple=True,
    help="Pinned root: RFC 7638 thumbprint (repeat for several).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def verify_command(
    code: str,
    offline: bool,
    trust_file: str | None,
    signed_file: str | None,
    roots: tuple[str, ...],
    as_json: bool,
) -> None:
    """Verify stamps: a token, a verify URL, or a photo, scan or PNG of QR codes.

    A picture holding several codes (a sheet of labels) gets every code checked, one
    line each, then a summary. Offline against a signed trust list: --trust-list FILE
    --root THUMBPRINT; a list past its next update is used with a warning for 7 days,
    then refused.

    Exit status: 0 when every code is genuine, 1 when any is not, 2 a usage error or a
    refused list.
    """
    try:
        texts, picture = _code_texts(code)
        if signed_file or roots:
            if trust_file:
                raise UsageProblem("give --trust-list with --root, or --trust, not both")
            verified = _signed_list(signed_file, roots)
            results = [_verify_signed(text, verified) for text in texts]
        elif offline:
            trust = _trust_list(trust_file)
            results = [_verify_offline(text, trust) for text in texts]
        elif trust_file:
            raise UsageProblem("--trust goes with --offline")
        else:
            results = [_verify_online(text) for text in texts]
    except (StampError, KeysError) as error:
        click.echo(f"Error: {say(error)}", err=True)
        sys.exit(2)
    if picture and len(results) > 1:
        _print_verdicts(results, code, as_json)
    else:
        _print_verdict(results[0], as_json)
    worst = max((_SEVERITY[r["status"]] for r in results), default=0)
    sys.exit(0 if worst == 0 else 1)


# Offline, only the signature is known: the scan history, the records and the
# activation ranges are on the server.
OFFLINE_NOTE = (
    "An offline check proves the signature only: it cannot tell a copy from the "
    "original, nor whether the batch was recalled or the stamp activated."
)

# Best first: a sheet is as good as its worst code.
_SEVERITY = {status: rank for rank, status in enumerate(VerdictStatus)}


def _code_texts(code: str) -> tuple[list[str], bool]:
    """The texts to verify: the code itself, or every code the picture at that path holds;
    and whether it was a picture."""
    from .decode import read_codes

    try:
        is_file = Path(code).is_file()
    except (OSError, ValueError):  # a name too long for the system, a NUL byte
        is_file = False
    if not is_file:
        return [code], False
    texts = read_codes(code)
    if not texts:
        raise UnreadableImage("no QR code could be read in the picture")
    return texts, True


def _trust_list(trust_file: str | None) -> TrustList:
    if not trust_file:
        raise UsageProblem("--offline needs --trust FILE (the trust list to check against)")
    try:
        return TrustList.from_json(Path(trust_file).read_bytes())
    except OSError as error:
        raise UsageProblem(
            "cannot read trust list %(path)s: %(problem)s", path=trust_file, problem=error.strerror
        ) from None


def _verify_offline(text: str, trust: TrustList) -> dict[str, Any]:
    result = verify_offline(text, trust)
    out: dict[str, Any] = {
        "status": result.status,
        "reasons": list(result.reasons),
        "offline": True,
        "note": OFFLINE_NOTE,
    }
    _add_token(out, result.token, result.key)
    return out


def _signed_list(signed_file: str | None, roots: tuple[str, ...]) -> VerifiedTrustList:
    if not signed_file or not roots:
        raise UsageProblem("--trust-list FILE needs --root THUMBPRINT (the root you pinned)")
    try:
        document = Path(signed_file).read_bytes()
    except OSError as error:
        raise UsageProblem(
            "cannot read trust list %(path)s: %(problem)s", path=signed_file, problem=error.strerror
        ) from None
    return verify_signed_trust_list(document, roots, utcnow())


def _verify_signed(text: str, verified: VerifiedTrustList) -> dict[str, Any]:
    result = verify_offline(text, verified)
    out: dict[str, Any] = {
        "status": result.status,
        "reasons": list(result.reasons),
        "offline": True,
        "note": OFFLINE_NOTE,
        "trust_list": {
            "sequence": verified.sequence,
            "freshness": verified.freshness.value,
            "next_update": verified.next_update.isoformat(),
            "usable_until": verified.usable_until.isoformat(),
            "dropped": [{"kid": d.kid, "reason": d.reason} for d in verified.dropped],
        },
    }
    if verified.freshness is Freshness.STALE:
        out["warning"] = (
            f"The trust list was due for renewal on {verified.next_update:%Y-%m-%d %H:%M} UTC: "
            f"a recent revocation may be missing. It is refused after "
            f"{verified.usable_until:%Y-%m-%d %H:%M} UTC."
        )
    _add_token(out, result.token, result.key)
    return out


def _verify_online(text: str) -> dict[str, Any]:
    with _database().transaction() as session:
        verdict = Verifier(session, rule=_settings().copy_rule).verify(text, now=utcnow())
        out: dict[str, Any] = {"status": verdict.status, "reasons": list(verdict.reasons)}
        _add_token(out, verdict.token, verdict.key)
        if verdict.known and not verdict.inert and verdict.batch is not None:
            out["lot"] = verdict.batch.lot_code
            out["product"] = verdict.batch.product_name
            out["producer"] = verdict.batch.producer_name
        return out


def _add_token(out: dict[str, Any], token: StampToken | None, key: TrustedKey | None) -> None:
    # Only a signature from a trusted key vouches for the batch and index a code names.
    if token is None or key is None:
        return
    out["serial"] = str(Serial(token.batch, token.index))
    out["batch"] = token.batch
    out["index"] = token.index
    out["kid"] = key.kid
    out["issuer"] = key.org_name


def _print_verdict(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, default=str))
        return
    click.echo(f"{str(result['status']).upper()}")
    for name in ("serial", "product", "lot", "producer", "issuer", "kid"):
        if result.get(name):
            click.echo(f"  {name}: {result[name]}")
    if result["reasons"]:
        click.echo("  reasons: " + ", ".join(str(r) for r in result["reasons"]))
    if result.get("warning"):
        click.echo(f"  warning: {result['warning']}")
    if result.get("note"):
        click.echo(f"  note: {result['note']}")


def _print_verdicts(results: list[dict[str, Any]], source: str, as_json: bool) -> None:
    """One line a code, in the order the picture was read, then how many of each verdict."""
    counts = {status: 0 for status in VerdictStatus}
    for result in results:
        counts[VerdictStatus(result["status"])] += 1
    summary = {str(status): n for status, n in counts.items() if n}
    if as_json:
        document = {"picture": source, "codes": len(results), "summary": summary}
        document["results"] = results
        click.echo(json.dumps(document, ensure_ascii=False, default=str))
        return
    for number, result in enumerate(results, 1):
        words = [f"{number:>3}", f"{str(result['status']).upper():<8}", result.get("serial") or "-"]
        if result.get("lot"):
            words.append(f"lot {result['lot']}")
        if result["reasons"]:
            words.append("reasons: " + ", ".join(str(r) for r in result["reasons"]))
        click.echo("  ".join(words))
    said = ", ".join(f"{n} {status}" for status, n in summary.items())
    click.echo(f"{len(results)} codes in {source}: {said}")
    if results[0].get("note"):
        click.echo(f"note: {results[0]['note']}")
