"""Workflows that span records, keys, stamps and the audit log.

Stamp requests, receiving, fake-stamp reports, accounts, API tokens, the audit
log and the console's record edits. They sit between ``web`` (which parses,
calls and renders) and ``stamps``; every function here takes a SQLAlchemy
``Session`` and knows nothing of Flask.
"""
