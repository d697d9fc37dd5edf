"""The ``ocop`` command: Flask's group plus one command group per package."""

from __future__ import annotations

import functools
import sys
from types import SimpleNamespace
from typing import Any

import click
from flask.cli import FlaskGroup, ScriptInfo
from sqlalchemy.exc import OperationalError, ProgrammingError

from ocop.keys.cli import keys_cli
from ocop.keys.log_cli import log_cli
from ocop.keys.root_cli import root_cli
from ocop.stamps.cli import stamps_cli
from ocop.trace.cli import SAY, trace_cli
from ocop.trace.cli_resources import RESOURCES_KEY
from ocop.trace.db import database_not_ready
from ocop.trace.errors import DomainError

from .app import create_app
from .commands import commands
from .console.cli import activate_command, users_cli
from .errors import ConfigError
from .messages import say_on_terminal


class OcopGroup(FlaskGroup):
    def invoke(self, ctx: click.Context) -> Any:
        # The package commands that print an error themselves say it as this edge does.
        ctx.meta[SAY] = say_on_terminal
        try:
            return super().invoke(ctx)
        # Each package raises its own errors, all DomainErrors: at this edge any of
        # them becomes one line on stderr, in the terminal's language, and a non-zero
        # exit, never a traceback.
        except DomainError as error:
            raise click.ClickException(say_on_terminal(error)) from None
        except (OperationalError, ProgrammingError) as error:
            raise click.ClickException(say_on_terminal(database_not_ready(error))) from None


def _create_app() -> Any:
    try:
        return create_app()
    except ConfigError as error:
        click.echo(f"Error: {say_on_terminal(error)}", err=True)
        sys.exit(2)


@click.group(cls=OcopGroup, create_app=_create_app, add_version_option=False)
@click.pass_context
def main(ctx: click.Context) -> None:
    """ocop-trace: signed OCOP stamps and the records behind them."""
    ctx.meta[RESOURCES_KEY] = functools.partial(_resources, ctx)


def _resources(ctx: click.Context) -> SimpleNamespace:
    """The app's database and settings for the packages' command groups, built once;
    the app context stays pushed until the command ends."""
    found = ctx.meta.get("ocop.resources.loaded")
    if found is None:
        app = ctx.ensure_object(ScriptInfo).load_app()
        ctx.with_resource(app.app_context())
        found = SimpleNamespace(database=app.extensions["ocop.db"], settings=app.config["OCOP"])
        ctx.meta["ocop.resources.loaded"] = found
    return found


# Activation is a workflow (audited), so web adds it to the stamps group.
stamps_cli.add_command(activate_command)
for _command in (trace_cli, keys_cli, root_cli, log_cli, stamps_cli, users_cli, *commands):
    main.add_command(_command)
