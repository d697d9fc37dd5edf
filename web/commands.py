"""``ocop init`` and ``ocop demo``: the two commands a newcomer runs first."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ocop.trace.db import Database

from .config import Settings


def _settings() -> Settings:
    return current_app.config["OCOP"]


def _database() -> Database:
    return current_app.extensions["ocop.db"]


def prepare_instance() -> Settings:
    """Instance folder and schema; safe to run again."""
    settings = _settings()
    settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    _database().upgrade()
    return settings


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the instance folder and database schema (safe to run again)."""
    settings = prepare_instance()
    click.echo(f"Instance folder: {settings.instance}")
    click.echo("Database schema is up to date.")


commands = [init_command]
