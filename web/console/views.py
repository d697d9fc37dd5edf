"""Imports every module of views so that they register on the blueprint."""

from . import (  # noqa: F401
    analytics,
    api_tokens,
    audit_views,
    auth_views,
    certifications,
    facilities,
    keys_views,
    lots,
    organisations,
    products,
    receiving,
    reports,
    stamp_requests,
    users,
)
