"""The web app and the ``ocop`` command: the composition root."""

from .app import create_app, request_session

__all__ = ["create_app", "request_session"]
