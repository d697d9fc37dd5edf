"""When a stamp's scans look like a copy: the one statement of the rule.

A printed copy of a genuine stamp verifies like the original: only the scan
history can tell them apart. The rule is written against two errors at once,
a genuine stamp called ``suspect`` and a copy that stays ``genuine``; why it is
what it is, and what it still gets wrong, is docs/copy-detection.md.

- A **sighting** is a scan from a device new to the stamp on a network new to
  it. The same phone scanning again, cookie or not, is no sighting; nor is a
  family or a shop scanning on one network, nor one client faking cookies and
  browsers, which changes devices but never networks.
- More than ``sightings`` sightings make a stamp suspect: one jar does not
  travel through that many networks, 500 fakes with one printed copy do.
- Two places shared **too far apart too soon** (centres more than ``far_km``
  apart within ``far_window``, from two networks) lower the bar to
  ``far_sightings``: one product was in two places, or two products carry one code.
- A scratch-off PIN claimed twice is suspect whatever else.

The web decides what a device and a network are (web/scanning.py); this
module only counts what it is given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ocop.trace.provinces import distance_km, province

from .offline import Reason


@dataclass(frozen=True, slots=True)
class SharedPlace:
    """A place a scanner chose to share: the province, when, and from which network."""

    place: str
    at: dt.datetime
    network: str | None


@dataclass(frozen=True, slots=True)
class CopyRule:
    sightings: int = 10
    far_sightings: int = 3
    far_km: float = 200.0
    far_window: dt.timedelta = dt.timedelta(hours=1)

    def conditions(
        self, sightings: Any, far_apart: Any, pin_claims: Any
    ) -> tuple[tuple[Any, Reason], ...]:
        """(condition, reason) pairs: bools given numbers, SQL given columns.

        The verifier and the analytics' list of suspect stamps both read these,
        so the dashboard flags exactly the stamps whose page says ``suspect``.
        """
        return (
            (sightings > self.sightings, Reason.SCAN_LIMIT_EXCEEDED),
            ((far_apart > 0) & (sightings >= self.far_sightings), Reason.SEEN_FAR_APART),
            (pin_claims > 1, Reason.PIN_CLAIMED_TWICE),
        )

    def reasons(self, sightings: int, far_apart: int, pin_claims: int) -> tuple[Reason, ...]:
        return tuple(
            reason for hit, reason in self.conditions(sightings, far_apart, pin_claims) if hit
        )

    def far_apart(self, before: SharedPlace | None, now: SharedPlace) -> bool:
        """Whether ``now`` and the place shared ``before`` cannot both be one product's.

        Two networks are needed: one client claiming two provinces is one
        witness, however often it changes its mind.
        """
        if before is None or before.network is None or before.network == now.network:
            return False
        if not dt.timedelta(0) <= now.at - before.at <= self.far_window:
            return False
        a, b = province(before.place), province(now.place)
        return a is not None and b is not None and distance_km(a, b) > self.far_km


__all__ = ["CopyRule", "SharedPlace"]
