"""The transparency log, read over HTTP: signed tree heads, proofs, leaves, the log key.

Anyone may read all of it (CORS open, web/cors.py): the log is only worth
something because auditors outside can check that it only ever grows and that
every batch a stamp names is in it (docs/transparency-log.md).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ocop.keys.errors import LogProblem
from ocop.keys.loghead import b64, ensure_log_key, log_key_jwk
from ocop.keys.signer import Ed25519Signer
from ocop.keys.transparency import (
    consistency_proof,
    inclusion_of,
    inclusion_proof,
    leaves,
    tree_head,
    tree_size,
)
from ocop.trace.errors import DomainError

from .database import request_session
from .errors import domain_problem, problem

bp = Blueprint("transparency", __name__)

_LARGEST = 2**62


def log_signer() -> Ed25519Signer:
    """The log key, unlocked once per process and instance (made on first use if none)."""
    settings = current_app.config["OCOP"]
    held: dict[tuple[str, str], Ed25519Signer] = current_app.extensions.setdefault(
        "ocop.log_signers", {}
    )
    slot = (str(settings.instance), settings.log_key)
    if slot not in held:
        settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        held[slot] = ensure_log_key(settings.keystore(), settings.instance, settings.log_key)
    return held[slot]


def signed_head_json(size: int | None = None) -> dict[str, Any]:
    return tree_head(request_session(), size).sign(log_signer()).to_json()


def inclusion_json(index: int) -> dict[str, Any]:
    """A leaf's inclusion proof against the latest signed head: what the verify JSON carries.

    A proof for a given (leaf, size) never changes, so it is kept in the app's cache.
    """
    session = request_session()
    cache = current_app.extensions["ocop.cache"]
    # The latest size, kept a few seconds like the rest of a scan's facts: any head
    # that holds the leaf proves it. A leaf newer than the kept size reads it afresh.
    size = cache.get(("log", "size"), lambda: tree_size(session))
    if index >= size:
        size = tree_size(session)

    def compute() -> dict[str, Any]:
        head = tree_head(session, size)
        proof = inclusion_of(session, index, head)
        return {
            "leaf_index": index,
            "leaf": b64(proof.leaf),
            "inclusion": [b64(p) for p in proof.path],
            "sth": head.sign(log_signer()).to_json(),
        }

    return dict(cache.get(("log", index, size), compute))


def _whole(name: str, *, minimum: int) -> int:
    raw = request.args.get(name, "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > _LARGEST:
        raise _BadParameter(name)
    value = int(raw)
    if value < minimum:
        raise _BadParameter(name)
    return value


class _BadParameter(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def _answer(build: Any) -> Response:
    try:
        response = jsonify(build())
    except _BadParameter as bad:
        return problem(
            400,
            "Invalid request",
            f"{bad.name} must be a whole number",
            invalid_params=[{"name": bad.name, "reason": "not a whole number in range"}],
        )
    except LogProblem as error:
        return domain_problem(400, error)
    except DomainError as error:  # the log key cannot be unlocked: not the client's fault
        return domain_problem(503, error)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/log/v1/sth")
def sth() -> Response:
    return _answer(lambda: signed_head_json())


@bp.get("/log/v1/consistency")
def consistency() -> Response:
    def build() -> dict[str, Any]:
        first, second = _whole("first", minimum=1), _whole("second", minimum=1)
        proof = consistency_proof(request_session(), first, second)
        return {"first": first, "second": second, "consistency": [b64(p) for p in proof]}

    return _answer(build)


@bp.get("/log/v1/inclusion")
def inclusion() -> Response:
    def build() -> dict[str, Any]:
        index = _whole("index", minimum=0)
        size = _whole("size", minimum=1) if "size" in request.args else None
        session = request_session()
        size = tree_size(session) if size is None else size
        proof = inclusion_proof(session, index, size)
        (leaf,) = leaves(session, index, index + 1)
        return {
            "leaf_index": index,
            "tree_size": size,
            "leaf": b64(bytes(leaf.leaf)),
            "inclusion": [b64(p) for p in proof],
        }

    return _answer(build)


@bp.get("/log/v1/leaves")
def leaf_range() -> Response:
    def build() -> dict[str, Any]:
        start, end = _whole("start", minimum=0), _whole("end", minimum=1)
        found = leaves(request_session(), start, end)
        return {"leaves": [{"index": row.index, "leaf": b64(bytes(row.leaf))} for row in found]}

    return _answer(build)


@bp.get("/log/v1/key")
def key() -> Response:
    return _answer(lambda: log_key_jwk(log_signer()))
