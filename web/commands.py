"""``ocop init`` and ``ocop demo``: the two commands a newcomer runs first."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from ocop.keys.bootstrap import ensure_first_authority
from ocop.keys.keystore import Keystore
from ocop.keys.loghead import ensure_log_key
from ocop.keys.root import certify_all, current_root, init_root, new_list_signer
from ocop.stamps import PinSecret, StampBatch, StampToken, generate_stamps
from ocop.stamps.issuance import batches_of_lot
from ocop.stamps.models import BatchStatus
from ocop.stamps.printing import PrintJob, issue_and_write, rewrite_output
from ocop.stamps.token import base32
from ocop.trace import list_lots, load_sample
from ocop.trace.db import Database, utcnow, vietnam_today
from ocop.trace.queries import find_lot, find_organisation, find_product
from ocop.workflows.accounts import create_user, find_user
from ocop.workflows.activation import activate_from_cli
from ocop.workflows.models import Role
from ocop.workflows.queue import TaskQueue

from .config import DEFAULT_BASE_URL, Settings, served_base_url
from .console.cli import ensure_first_account
from .demo_photo import add_sample_photo

DEMO_STAMPS = 12
DEMO_PHOTO_OF = "BANH-CAY-LANG-NGUYEN"
# Printed after the active ones but never activated: what a stolen blank stamp shows.
DEMO_INERT = 3
DEFAULT_ADMIN = "admin@ocop.local"
# The sample's cooperative and distributor get a console account each in the demo.
DEMO_ACCOUNTS = (
    ("htx@ocop.local", "1001187342", Role.PRODUCER),
    ("phanphoi@ocop.local", "0109456783", Role.DISTRIBUTOR),
)


def _settings() -> Settings:
    return current_app.config["OCOP"]


def _database() -> Database:
    return current_app.extensions["ocop.db"]


def prepare_instance(admin_email: str = DEFAULT_ADMIN) -> tuple[Settings, list[str]]:
    """Instance folder, schema, first authority, its key and its first console
    account; safe to run again. Returns lines to show (a one-time password once)."""
    settings = _settings()
    settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    database = _database()
    database.upgrade()
    with database.transaction() as session:
        org, key, created = ensure_first_authority(session, settings.keystore())
        said = "created" if created else "has"
        lines = [f"Authority {org.name} (id {org.id}) {said} issuer key {key.kid}"]
        log_key = ensure_log_key(settings.keystore(), settings.instance, settings.log_key)
        lines.append(f"Transparency log key {log_key.kid}")
        secret = ensure_first_account(session, org, admin_email)
        if secret is not None:
            lines.append(
                f"Console account {admin_email} at {settings.base_url}/console/ with the "
                f"one-time password {secret} (shown once; change it at first sign-in)"
            )
        return settings, lines


@click.command("init")
@click.option("--admin-email", default=DEFAULT_ADMIN, show_default=True,
              help="Email of the first authority officer's console account.")
@with_appcontext
def init_command(admin_email: str) -> None:
    """Create the instance folder, the schema, the first authority's key and its first
    console account (idempotent)."""
    settings, lines = prepare_instance(admin_email)
    click.echo(f"Instance folder: {settings.instance}")
    click.echo("Database schema is up to date.")
    for line in lines:
        click.echo(line)


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Load the sample and stop; do not serve.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def demo_command(no_serve: bool, host: str, port: int) -> None:
    """Load the sample value chain (marked as sample data), issue demo stamps, and serve.

    Links and the stamps' QR codes use OCOP_BASE_URL when it is set, else the
    address this command serves on (--host, --port).
    """
    settings = _demo_settings(host, port)
    settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    _database().upgrade()
    # The sample first: its provincial council then becomes the signing authority.
    with _database().transaction() as session:
        summary = load_sample(session)
        # The sample's first product gets a photo, as a cooperative would upload it.
        if add_sample_photo(session, find_product(session, DEMO_PHOTO_OF), settings.photos):
            click.echo(f"Sample photo of {DEMO_PHOTO_OF} in {settings.photos}")
    click.echo(f"Sample records loaded (sample data): {summary}")
    _, lines = prepare_instance()
    for line in lines:
        click.echo(line)
    for line in _demo_accounts():
        click.echo(line)
    for line in _demo_root(settings):
        click.echo(line)
    keystore, pin_secret = settings.keystore(), PinSecret(settings.resolved_pin_secret())
    batch, pdf = _demo_batch(settings, keystore, pin_secret)
    _show_where(settings, keystore, pin_secret, batch, pdf)
    if no_serve:
        return
    click.echo(
        f"Serving the verifier on http://{host}:{port}/ and the console on "
        f"http://{host}:{port}/console/ (Ctrl+C to stop)"
    )
    # Jobs (stamp requests, exports, the daily certificate pass) run in this process
    # unless OCOP_QUEUE_URL names a broker whose `ocop worker`s run them.
    _queue().start_embedded()
    # Flask's app.run() refuses to run inside a CLI command; serve directly.
    run_simple(host, port, current_app._get_current_object(), threaded=True)


@click.command("worker")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Jobs run at once in this process.")
@with_appcontext
def worker_command(threads: int) -> None:
    """Run queued jobs (stamp printing, exports, the daily certificate pass) until stopped.

    Start as many as needed, on any machine that reaches the database, the broker
    (OCOP_QUEUE_URL) and the instance folder's outputs. SIGTERM or Ctrl+C stops it;
    a job it was running is resumed by another worker from its last chunk.
    """
    queue = _queue()
    settings = _settings()
    if settings.queue_url is None:
        raise click.UsageError(
            "set OCOP_QUEUE_URL (redis://... or amqp://...) for the web processes and the "
            "workers alike; without it, jobs run inside the process that makes them"
        )
    _database().ping()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    queue.start_worker(threads=threads)
    click.echo(f"Worker {os.getpid()} running jobs from {_redacted(settings.queue_url)} "
        f"({threads} at once)")
    stop.wait()
    click.echo("Stopping: the job in hand is left for another worker to resume")
    # Within a container's usual 30 s between SIGTERM and SIGKILL.
    queue.close(grace=10)


def _demo_settings(host: str, port: int) -> Settings:
    """The settings, with the base URL of the server this demo runs unless one is configured."""
    settings = _settings()
    if "OCOP_BASE_URL" in os.environ or settings.base_url != DEFAULT_BASE_URL:
        return settings
    settings = settings.with_overrides({"base_url": served_base_url(host, port)})
    current_app.config["OCOP"] = settings  # the pages served below link the same way
    return settings


def _queue() -> TaskQueue:
    return current_app.extensions["ocop.queue"]


def _redacted(url: str) -> str:
    # A broker URL may carry a password: show scheme and host only.
    head, _, rest = url.partition("://")
    return f"{head}://{rest.rpartition('@')[2]}" if rest else url


def _demo_accounts() -> list[str]:
    lines = []
    with _database().transaction() as session:
        for email, tax_code, role in DEMO_ACCOUNTS:
            if find_user(session, email) is not None:
                continue
            org = find_organisation(session, tax_code)
            _, secret = create_user(session, email, org, role)
            lines.append(f"Demo console account {email} ({org.name}): one-time password {secret}")
    return lines


def _demo_root(settings: Settings) -> list[str]:
    """A demo root that certifies the demo's keys, so the signed trust list works at once.

    A real root is made on an offline machine (docs/trust-list.md); the demo keeps
    it in the instance folder under the development passphrase.
    """
    with _database().transaction() as session:
        root = current_root(session)
        lines = []
        if root is None:
            root = init_root(session, settings.root_keystore(), actor="demo")
            new_list_signer(session, settings.keystore(), settings.root_keystore(), actor="demo")
            lines.append(f"Demo root key {root.kid} (pin this thumbprint in verifiers)")
        certify_all(session, settings.root_keystore(), actor="demo")
        return lines


def _demo_batch(
    settings: Settings, keystore: Keystore, pin_secret: PinSecret
) -> tuple[StampBatch, Path]:
    """The demo's batch of stamps: issued once, its PDF written again each run."""
    database = _database()
    out_dir = settings.instance / "demo"
    out_dir.mkdir(mode=0o700, exist_ok=True)
    with database.transaction() as session:
        lot_code = next(lot.code for lot in list_lots(session, vietnam_today()) if lot.stampable)
        lot = find_lot(session, lot_code)
        issued = [b for b in batches_of_lot(session, lot) if b.status is BatchStatus.ISSUED]
    if issued:
        batch_id = issued[0].id
        pdf = rewrite_output(
            database,
            keystore,
            batch_id,
            out_dir / f"stamps-{batch_id}.pdf",
            base_url=settings.base_url,
            pin_secret=pin_secret,
        )
    else:
        job = PrintJob(
            lot_code, DEMO_STAMPS + DEMO_INERT, out_dir / "stamps.pdf", pin_secret=pin_secret,
            activate=False,
        )
        result = issue_and_write(database, keystore, job, base_url=settings.base_url, actor="demo")
        batch_id = result.batch
        with database.transaction() as session:
            activate_from_cli(session, "demo", batch_id, "1", str(DEMO_STAMPS), utcnow())
        pdf = result.out.rename(out_dir / f"stamps-{batch_id}.pdf")
    with database.transaction() as session:
        return session.get_one(StampBatch, batch_id), pdf


def _show_where(
    settings: Settings, keystore: Keystore, pin_secret: PinSecret, batch: StampBatch, pdf: Path
) -> None:
    signer = keystore.load(batch.key.kid)
    stamps = list(
        generate_stamps(signer, batch.id, 3, base_url=settings.base_url, pin_secret=pin_secret)
    )
    click.echo(f"Printable label sheet (batch {batch.id}, {batch.count} stamps): {pdf}")
    click.echo("Verify pages of the first stamps (open one in a browser):")
    for stamp in stamps:
        click.echo(f"  {stamp.serial}  PIN {stamp.pin}  {stamp.url}")
    if batch.count > DEMO_STAMPS:
        (inert,) = generate_stamps(
            signer, batch.id, DEMO_STAMPS + 1, base_url=settings.base_url, pin_secret=pin_secret,
            start=DEMO_STAMPS,
        )
        click.echo(f"A stamp never activated (stamps {DEMO_STAMPS + 1} to {batch.count} are "
                   f"inert):  {inert.url}")
    forged = _tampered(stamps[0].token)
    click.echo(f"A forged stamp, for comparison:  {settings.base_url}/V/{forged}")
    click.echo(f"Trust list: {settings.base_url}/.well-known/ocop-trust.json")
    click.echo(f"Signed trust list: {settings.base_url}/.well-known/ocop-trust.jws")
    click.echo(f"Offline verifier (works without network once opened): "
               f"{settings.base_url}/kiem-tra")
    click.echo(f"Transparency log (signed tree head): {settings.base_url}/log/v1/sth")


def _tampered(token: StampToken) -> str:
    raw = bytearray(token.to_bytes())
    raw[-1] ^= 0x01
    return base32(bytes(raw))


commands = [init_command, demo_command, worker_command]
