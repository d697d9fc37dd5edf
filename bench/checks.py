"""What every benchmark does with its outputs: checks them, and stops loudly when one is wrong.

A figure measured on wrong output measures nothing: a verifier answering
``invalid`` is fast, a PDF of unreadable codes is quick to write. Each benchmark
checks what it produced and exits with status 1 on the first mismatch, naming it.
"""

from __future__ import annotations


def expect(ok: bool, what: str) -> None:
    """Stop the benchmark, with exit status 1, unless ``ok``; ``what`` says what was wrong."""
    if not ok:
        raise SystemExit(f"MISMATCH: {what}")
