"""(to be written) The distributors' API: receiving calls authenticated by API token."""

from flask import Blueprint

api_bp = Blueprint("receiving_api", __name__, url_prefix="/api/v1")
