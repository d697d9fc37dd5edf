"""The ``ocop`` command: Flask's group plus one command group per package."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup

from .app import create_app
from .config import ConfigError, Settings

# Each package raises its own errors; at this edge any of them becomes one line
# on stderr and a non-zero exit, never a traceback.
_ERROR_BASES = (
    ("ocop.trace.errors", "TraceError"),
    ("ocop.keys.errors", "KeysError"),
    ("ocop.stamps.errors", "StampError"),
)


def user_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [ConfigError]
    for module, name in _ERROR_BASES:
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


class OcopGroup(FlaskGroup):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except user_errors() as error:
            raise click.ClickException(str(error)) from None


def _create_app() -> Any:
    try:
        return create_app()
    except ConfigError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)


@click.group(cls=OcopGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """ocop-trace: signed OCOP stamps and the records behind them."""


def settings() -> Settings:
    return current_app.config["OCOP"]


def _add_package_groups() -> None:
    for module, attr in (
        ("ocop.trace.cli", "trace_cli"),
        ("ocop.keys.cli", "keys_cli"),
        ("ocop.stamps.cli", "stamps_cli"),
        ("ocop.web.commands", "commands"),
    ):
        try:
            found = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        for command in found if isinstance(found, list | tuple) else [found]:
            main.add_command(command)


_add_package_groups()
