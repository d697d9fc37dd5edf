"""What the command groups below web need from the composition root.

The packages' command groups are plain click groups: importing Flask here would
turn the layers around. The ``ocop`` command (``web/cli.py``) builds the app
and leaves a loader in the click context's ``meta``; commands reach the
database and the settings through :func:`resources`, built on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import click

from .db import Database

RESOURCES_KEY = "ocop.resources"


class Resources(Protocol):
    """The app's database and settings (``web.config.Settings``) for one command."""

    @property
    def database(self) -> Database: ...

    @property
    def settings(self) -> Any: ...


def resources() -> Resources:
    """The resources of the running ``ocop`` command."""
    loader: Callable[[], Resources] | None = click.get_current_context().meta.get(RESOURCES_KEY)
    if loader is None:  # a group run outside the ocop command: a programming error
        raise RuntimeError("run this command through `ocop`, which sets up its resources")
    return loader()


def database() -> Database:
    return resources().database


def settings() -> Any:
    return resources().settings
