"""Imports every module of views so that they register on the blueprint."""

from . import (  # noqa: F401
    activation,
    analytics,
    api_tokens,
    audit,
    certifications,
    facilities,
    fake_reports,
    jobs,
    keys,
    lots,
    marks,
    organisations,
    photos,
    products,
    receiving,
    signin,
    stamp_requests,
    users,
)
