"""Rate-limit storage for one process, without a thread per request.

limits' ``memory://`` storage starts a timer thread whenever the previous one
has finished, 10 ms after it started: under load, a thread start (and a wait
for it) on nearly every request, a quarter of a scan's time in a profile.
``lazymemory://`` keeps the same counters and expires each key when it is read,
as ``memory://`` does too, and sweeps forgotten keys inline at most once a second.
"""

from __future__ import annotations

import time

from limits.storage import MemoryStorage

SWEEP_EVERY = 1.0


class LazyMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["lazymemory"]  # noqa: RUF012 - limits reads this class attribute

    _next_sweep = 0.0

    # MemoryStorage calls its private __schedule_expiry; this is its mangled name.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


def storage_uri(configured: str) -> str:
    """The storage to give the limiter: ours in place of ``memory://``."""
    return "lazymemory://" if configured.startswith("memory://") else configured
