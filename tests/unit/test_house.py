"""The house rules that no linter checks: small modules, each one job."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("trace", "keys", "stamps", "workflows", "web")
# "About 600": a module a few lines over is not worth a split.
LIMIT = 640
# A longer module says why at its top, in these words, and the reason.
EXCUSE = "longer than 600 lines because"


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_the_packages_are_where_the_test_looks() -> None:
    assert len(_sources()) > 50


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_long_without_saying_why(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) <= LIMIT:
        return
    top = "\n".join(lines[:20]).lower()
    assert EXCUSE in top, f"{len(lines)} lines: split it, or say at its top why not"
