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

from ocop.keys import TrustList, keystore_for
from ocop.keys.trustlist import TrustedKey
from ocop.trace import cli_resources
from ocop.trace.cli import say
from ocop.trace.db import Database, utcnow

from .errors import StampError, UsageProblem
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
@click.option("--columns", type=int, help="PDF: labels across the page.")
@click.option("--label-width", type=float, help="PDF: label width in mm.")
@click.option("--label-height", type=float, help="PDF: label height in mm.")
@click.option("--margin", type=float, help="PDF: page margin in mm.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def issue_command(
    lot_code: str,
    raw_count: str,
    out: str,
    pin: bool,
    inert: bool,
    svg: bool,
    org_id: int | None,
    columns: int | None,
    label_width: float | None,
    label_height: float | None,
    margin: float | None,
    as_json: bool,
) -> None:
    """Issue a batch of signed stamps for a certified lot and write the print file."""
    settings = _settings()
    kind = OutputKind.for_path(out)
    job = PrintJob(
        lot_code=lot_code,
        count=parse_count(raw_count, settings.max_batch),
        out=Path(out).resolve(),
        pin_secret=PinSecret(settings.resolved_pin_secret()) if pin else None,
        org_id=org_id,
        layout=_layout(kind, columns, label_width, label_height, margin),
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
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        click.echo(
            f"Batch {result.batch}: {result.count:,} stamps for lot {lot_code}, "
            f"signed by {result.kid}"
        )
        click.echo(f"Written to {result.out}")


def _layout(
    kind: OutputKind,
    columns: int | None,
    width: float | None,
    height: float | None,
    margin: float | None,
) -> LabelLayout | None:
    if columns is None and width is None and height is None and margin is None:
        return None
    if kind is not OutputKind.PDF:
        raise UsageProblem("label layout options apply to .pdf output only")
    try:
        # None keeps from_options' default, as an option left out would.
        return LabelLayout.from_options(
            columns=columns, label_width_mm=width, label_height_mm=height, margin_mm=margin
        )
    except ValueError as error:
        raise UsageProblem("label layout: %(problem)s", problem=str(error)) from None


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
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def verify_command(code: str, offline: bool, trust_file: str | None, as_json: bool) -> None:
    """Verify a stamp: a token, a verify URL, or a photo or PNG of the QR code.

    Exit status: 0 genuine, 1 anything else, 2 a usage error.
    """
    try:
        text = _code_text(code)
        if offline:
            result = _verify_offline(text, trust_file)
        elif trust_file:
            raise UsageProblem("--trust goes with --offline")
        else:
            result = _verify_online(text)
    except StampError as error:
        click.echo(f"Error: {say(error)}", err=True)
        sys.exit(2)
    _print_verdict(result, as_json)
    sys.exit(0 if result["status"] == VerdictStatus.GENUINE else 1)


def _code_text(code: str) -> str:
    """The text to verify: the code itself, or what the picture at that path holds."""
    from .decode import read_one_code

    try:
        is_file = Path(code).is_file()
    except (OSError, ValueError):  # a name too long for the system, a NUL byte
        is_file = False
    return read_one_code(code) if is_file else code


def _verify_offline(text: str, trust_file: str | None) -> dict[str, Any]:
    if not trust_file:
        raise UsageProblem("--offline needs --trust FILE (the trust list to check against)")
    try:
        trust = TrustList.from_json(Path(trust_file).read_bytes())
    except OSError as error:
        raise UsageProblem(
            "cannot read trust list %(path)s: %(problem)s", path=trust_file, problem=error.strerror
        ) from None
    result = verify_offline(text, trust)
    out: dict[str, Any] = {
        "status": result.status,
        "reasons": list(result.reasons),
        "offline": True,
        "note": "An offline check proves the signature only: it cannot tell a copy "
        "from the original, nor whether the batch was recalled.",
    }
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
    if result.get("note"):
        click.echo(f"  note: {result['note']}")
