"""What ``/readyz`` asks beyond the database: the secrets the service signs and
claims PINs with are there, and the key passphrase opens the active keys.

Opening a key runs the keystore's memory-hard key derivation, so each process
remembers the keys it has opened once: a load balancer polling ``/readyz``
every few seconds costs one derivation per key per process, not one per poll.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ocop.trace.errors import DomainError

from .config import Settings

_opened: set[tuple[str, str]] = set()
_lock = threading.Lock()


def secrets_ready(settings: Settings, active_kids: Iterable[str]) -> str:
    """``"ok"``, or the one line that says what is missing or wrong."""
    problem = settings.unready_secrets()
    if problem is not None:
        return problem
    instance = str(settings.instance)
    waiting = [kid for kid in active_kids if (instance, kid) not in _opened]
    if not waiting:
        return "ok"
    try:
        keystore = settings.keystore()
        held = set(keystore.kids())
        for kid in waiting:
            if kid in held:  # another instance's key is not ours to open
                keystore.load(kid)
                with _lock:
                    _opened.add((instance, kid))
    except DomainError as error:
        return str(error)
    return "ok"
