"""The request's database: a leaf module that views import.

The factory binds a :class:`~ocop.trace.db.Database` to the app; views reach it
through these helpers, never through the factory, so no view imports
``app.py`` and the factory imports the views, not the other way round.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from flask import current_app, g
from sqlalchemy.orm import Session

from ocop.trace.db import Database
from ocop.workflows.queue import TaskQueue


def request_session() -> Session:
    """The request's reading session, opened on first use and closed at teardown.

    Writes go through :func:`write_transaction`, short and committed before
    the response is built, so a failed commit is an error the client sees.
    """
    if "db_session" not in g:
        g.db_session = database().read_sessionmaker()
    return g.db_session


def write_transaction() -> AbstractContextManager[Session]:
    """A transaction for the request's writes: committed on leaving, rolled back on error."""
    return database().transaction()


def database() -> Database:
    return current_app.extensions["ocop.db"]


def job_queue() -> TaskQueue:
    """The app's task queue: jobs are written first, then their ids handed to it."""
    return current_app.extensions["ocop.queue"]


def close_request_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
