"""The web app and the ``ocop`` command: the composition root."""

from .app import create_app
from .database import request_session, write_transaction

__all__ = ["create_app", "request_session", "write_transaction"]
