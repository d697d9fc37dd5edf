"""``ocop users``: console accounts from the command line."""

from __future__ import annotations

import getpass
import json

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ocop.trace.db import Database, utcnow
from ocop.trace.models import Organisation, OrgKind
from ocop.workflows import audit
from ocop.workflows.accounts import create_user, disable_user, find_user, reset_password
from ocop.workflows.activation import activate_from_cli
from ocop.workflows.errors import WorkflowError
from ocop.workflows.models import Role, User

from ..guards import LARGEST_ID

ROLES = {
    "authority": Role.AUTHORITY,
    "producer": Role.PRODUCER,
    "distributor": Role.DISTRIBUTOR,
    **{role.value: role for role in Role},
}


def _database() -> Database:
    return current_app.extensions["ocop.db"]


@click.group("users")
def users_cli() -> None:
    """Console accounts: add, list, reset a password, disable."""


@users_cli.command("add")
@click.argument("email")
@click.option(
    "--org",
    "org_id",
    type=int,
    required=True,
    help="Organisation id (list them with `ocop trace orgs`).",
)
@click.option("--role", type=click.Choice(sorted(ROLES)), required=True)
@with_appcontext
def add_command(email: str, org_id: int, role: str) -> None:
    """Add an account; its one-time password is printed once, never stored in clear."""
    with _database().transaction() as session:
        org = session.get(Organisation, org_id) if 0 < org_id <= LARGEST_ID else None
        if org is None:
            raise WorkflowError("no organisation with id %(org)s", org=org_id)
        user, secret = create_user(session, email, org, ROLES[role])
        audit.record_system(
            session,
            "command line",
            "user.create",
            user.email,
            {"role": user.role.value, "organisation": org.id},
        )
        line = f"Account {user.email} ({user.role.value}) for {org.name} (id {org.id})"
    click.echo(line)
    click.echo(f"One-time password (shown once; it must be changed at first sign-in): {secret}")


@users_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_command(as_json: bool) -> None:
    """List accounts (no passwords, no hashes)."""
    with _database().transaction() as session:
        rows = [
            {
                "email": u.email,
                "role": u.role.value,
                "organisation": u.organisation_id,
                "organisation_name": u.organisation.name,
                "active": u.active,
                "locked_until": u.locked_until.isoformat() if u.locked_until else None,
            }
            for u in session.scalars(select(User).order_by(User.email))
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        state = "" if row["active"] else "  (disabled)"
        click.echo(f"{row['email']:<40} {row['role']:<20} {row['organisation_name']}{state}")


@users_cli.command("reset")
@click.argument("email")
@with_appcontext
def reset_command(email: str) -> None:
    """Give an account a new one-time password and end its sessions."""
    with _database().transaction() as session:
        user = _find(session, email)
        secret = reset_password(session, user)
        audit.record_system(session, "command line", "user.reset_password", user.email)
    click.echo(f"New one-time password for {user.email} (shown once): {secret}")


@users_cli.command("disable")
@click.argument("email")
@with_appcontext
def disable_command(email: str) -> None:
    """Stop an account from signing in; its sessions end at once."""
    with _database().transaction() as session:
        user = _find(session, email)
        disable_user(session, user, by_user_id=None)
        audit.record_system(session, "command line", "user.disable", user.email)
    click.echo(f"Disabled {user.email}")


def _find(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise WorkflowError("no account for %(email)r", email=email)
    return user


def ensure_first_account(session: Session, authority: Organisation, email: str) -> str | None:
    """An officer account for the first authority; its one-time password, or None
    when the authority already has an officer (``ocop init`` is idempotent)."""
    assert authority.kind is OrgKind.AUTHORITY
    existing = session.scalars(
        select(User).where(User.organisation_id == authority.id, User.role == Role.AUTHORITY)
    ).first()
    if existing is not None:
        return None
    user, secret = create_user(session, email, authority, Role.AUTHORITY)
    audit.record_system(
        session,
        "ocop init",
        "user.create",
        user.email,
        {"role": user.role.value, "organisation": authority.id},
    )
    return secret


@click.command("activate")
@click.argument("batch", type=click.IntRange(1, LARGEST_ID))
@click.argument("first")
@click.argument("last")
@with_appcontext
def activate_command(batch: int, first: str, last: str) -> None:
    """Activate stamps FIRST to LAST of BATCH (stamp numbers from 1, or serials).

    Stamps of a batch made from a stamp request stay inert until activated;
    scans of inert stamps show the producer a possible theft.
    """
    try:
        who = f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        who = "cli"
    with _database().transaction() as session:
        row = activate_from_cli(session, who, batch, first, last, utcnow())
        count = row.last_index - row.first_index + 1
    click.echo(f"Activated {count:,} stamps of batch {batch} ({first} to {last})")
