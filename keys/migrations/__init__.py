"""Alembic revisions of this package's tables, in the one history ocop.trace runs."""
