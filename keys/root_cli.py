"""``ocop root``: the root key's ceremonies, and the signed trust list.

Thin: parse, call :mod:`.root` or :mod:`.publishing`, print. The root's key
file is read from ``OCOP_ROOT_KEYS`` (default ``instance/root``) with
``OCOP_ROOT_PASSPHRASE``; docs/trust-list.md walks through each ceremony.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from ocop.trace import cli_resources

from .cli import _actor, _database, _keystore
from .errors import FileAccessError
from .keystore import Keystore, write_atomically
from .passphrase import root_keystore_for
from .publishing import signed_trust_list
from .root import (
    certify_all,
    certify_issuer_key,
    init_root,
    new_list_signer,
    revoke_by_root,
    rotate_root,
)

root_cli = click.Group(
    "root", help="The offline root key: create, certify keys, revoke, rotate; the signed list."
)


def _root_store() -> Keystore:
    settings = cli_resources.settings()
    return root_keystore_for(settings.instance, os.environ, production=settings.production)


@root_cli.command("init")
def init_command() -> None:
    """Create the root key (refuses when one exists) and print the thumbprint to pin."""
    store = _root_store()
    with _database().transaction() as session:
        root = init_root(session, store, actor=_actor())
        kid = root.kid
    click.echo(f"Root key created in {store.directory} (keep it offline).")
    click.echo(f"Pin this root thumbprint in verifiers: {kid}")


@root_cli.command("certify")
@click.argument("kid", required=False)
@click.option("--all", "every", is_flag=True, help="Every registered key not yet certified.")
@click.option(
    "--list-signer", is_flag=True, help="Create a new online list-signing key and certify it."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the certificate (a compact JWS) to this file.",
)
def certify_command(kid: str | None, every: bool, list_signer: bool, out: Path | None) -> None:
    """Certify an issuer key (KID), every uncertified key (--all), or a new list signer.

    A kid may begin with "-"; put it after "--": ocop root certify -- KID
    """
    if sum((kid is not None, every, list_signer)) != 1:
        raise click.UsageError("give one of KID, --all or --list-signer")
    store = _root_store()
    with _database().transaction() as session:
        if list_signer:
            done = [new_list_signer(session, _keystore(), store, actor=_actor())]
        elif every:
            done = certify_all(session, store, actor=_actor())
        else:
            assert kid is not None
            done = [certify_issuer_key(session, store, kid, actor=_actor())]
    for certified in done:
        click.echo(f"Certified {certified.kid} ({certified.purpose.value}).")
    if not done:
        click.echo("Every registered key is certified already.")
    if out is not None and done:
        _write(out, "\n".join(c.certificate for c in done) + "\n")


@root_cli.command("revoke")
@click.argument("kid")
@click.option("--reason", required=True, help="Why (signed into the revocation).")
def revoke_command(kid: str, reason: str) -> None:
    """Revoke a key with the root's signature; the signed trust list carries it.

    A kid may begin with "-"; put it after "--": ocop root revoke --reason TEXT -- KID
    """
    store = _root_store()
    with _database().transaction() as session:
        revoke_by_root(session, store, kid, reason=reason, actor=_actor())
    click.echo(f"Revoked {kid.strip()} with the root's signature.")


@root_cli.command("rotate")
def rotate_command() -> None:
    """Replace the root: the old root signs the new one, which certifies every key again."""
    store = _root_store()
    with _database().transaction() as session:
        new = rotate_root(session, store, actor=_actor())
        kid = new.kid
    click.echo(f"New root {kid}; the old root signed the hand-over.")
    click.echo("Verifiers pinned to the old root follow it; pin the new thumbprint in new ones.")


@root_cli.command("signed-list")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def signed_list_command(out: Path | None) -> None:
    """Print or write the current signed trust list (what /.well-known/ocop-trust.jws serves)."""
    with _database().transaction() as session:
        document = signed_trust_list(session, _keystore()).document + "\n"
    if out is None:
        click.echo(document, nl=False)
        return
    _write(out, document)
    click.echo(f"Signed trust list written to {out}")


def _write(out: Path, text: str) -> None:
    if not out.resolve().parent.is_dir():
        raise FileAccessError(
            "cannot write %(path)s: folder %(folder)s does not exist",
            path=out,
            folder=out.resolve().parent,
        )
    write_atomically(out, text.encode("utf-8"), mode=0o644)
