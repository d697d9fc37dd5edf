"""``ocop keys``: issuer keys from the command line.

Thin on purpose: parse, call the registry, print. The app's database and settings are
reached through :mod:`ocop.trace.cli_resources`, because importing ocop.web
(or Flask) from here would turn the package dependencies around.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Any

import click

from ocop.trace import cli_resources
from ocop.trace.db import Database

from .errors import FileAccessError
from .keystore import Keystore, write_atomically
from .models import IssuerKey
from .passphrase import keystore_for
from .registry import create_key, list_keys, resolve_org, revoke_key, rotate_key, trust_list

keys_cli = click.Group("keys", help="Issuer keys: create, list, rotate, revoke; the trust list.")

_org_option = click.option(
    "--org", "org_id", type=int, help="Authority id (may be left out when there is only one)."
)


def _database() -> Database:
    return cli_resources.database()


def _keystore() -> Keystore:
    settings = cli_resources.settings()
    return keystore_for(settings.instance, os.environ, production=settings.production)


def _actor() -> str:
    # Who did it, for the audit columns; a container may have no user name.
    try:
        return getpass.getuser() or "cli"
    except (KeyError, OSError):
        return "cli"


@keys_cli.command("new")
@_org_option
def new_command(org_id: int | None) -> None:
    """Create an active issuer key for an authority that has none."""
    keystore = _keystore()
    with _database().transaction() as session:
        org = resolve_org(session, org_id)
        key = create_key(session, keystore, org, actor=_actor())
        said = f"New active key {key.kid} for {org.name} (organisation {org.id})."
    click.echo(said)


@keys_cli.command("rotate")
@_org_option
def rotate_command(org_id: int | None) -> None:
    """Replace an authority's active key; the old one retires and its stamps stay good."""
    keystore = _keystore()
    with _database().transaction() as session:
        org = resolve_org(session, org_id)
        key = rotate_key(session, keystore, org, actor=_actor())
        said = (
            f"New active key {key.kid} for {org.name} (organisation {org.id});"
            " the previous key is retired, its stamps stay valid."
        )
    click.echo(said)


@keys_cli.command("revoke")
@click.argument("kid")
@click.option("--reason", required=True, help="Why (kept in the registry).")
def revoke_command(kid: str, reason: str) -> None:
    """Revoke a key: every stamp it signed verifies as revoked from now on.

    A kid may begin with "-"; put it after "--": ocop keys revoke --reason TEXT -- KID
    """
    with _database().transaction() as session:
        key = revoke_key(session, kid, reason=reason, actor=_actor())
        said = f"Revoked key {key.kid} of {key.organisation.name}."
    click.echo(said)


@keys_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(as_json: bool) -> None:
    """List every issuer key with its authority and status."""
    with _database().transaction() as session:
        rows = [_key_json(key) for key in list_keys(session)]
    if as_json:
        click.echo(json.dumps({"keys": rows}, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("No issuer keys yet; `ocop init` or `ocop keys new` creates one.")
        return
    for row in rows:
        click.echo(_key_line(row))


@keys_cli.command("trust-list")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
def trust_list_command(out: Path | None) -> None:
    """Print or write the trust list (JWK Set) that verifiers check stamps against."""
    with _database().transaction() as session:
        document = trust_list(session).to_json() + "\n"
    if out is None:
        click.echo(document, nl=False)
        return
    if not out.resolve().parent.is_dir():
        raise FileAccessError(
            "cannot write %(path)s: folder %(folder)s does not exist",
            path=out,
            folder=out.resolve().parent,
        )
    # Published as is: readable by the web server and by whoever it is copied to.
    write_atomically(out, document.encode("utf-8"), mode=0o644)
    click.echo(f"Trust list written to {out}")


def _key_json(key: IssuerKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "kid": key.kid,
        "org": {"id": key.organisation.id, "name": key.organisation.name},
        "status": key.status.value,
        "not_before": _time(key.not_before),
        "not_after": _time(key.not_after),
        "retired_at": _time(key.retired_at),
        "revoked_at": _time(key.revoked_at),
        "revoked_reason": key.revoked_reason,
        "revoked_by": key.revoked_by,
        "created_by": key.created_by,
    }


def _key_line(row: dict[str, Any]) -> str:
    org = row["org"]
    line = f"{row['kid']}  {row['status']:<8}  org {org['id']} ({org['name']})"
    line += f"  since {row['not_before']}"
    if row["revoked_at"]:
        line += f"  revoked {row['revoked_at']}: {row['revoked_reason']}"
    return line


def _time(value: Any) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds").replace("+00:00", "Z")
