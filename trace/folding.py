"""Text folded for search: no diacritics, no case, one space between words.

A shopper types "banh cay" on a phone without a Vietnamese keyboard and must
find "Bánh cáy". One function folds both what is stored and what is asked, so
the two always agree. PostgreSQL folds with ``unaccent`` in its own index
(see the 0011 migration); tests check that both fold Vietnamese alike.
"""

from __future__ import annotations

import unicodedata

# NFKD splits every Vietnamese vowel into a base letter and combining marks, but
# đ is a letter of its own, not d with a mark: it needs its own rule.
_LETTERS = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text: str) -> str:
    """``text`` lower-cased, without diacritics, its words joined by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())


def product_search_text(name: str | None, short_name: str | None) -> str:
    """What a product is found by: its name and short name, folded."""
    return fold(f"{name or ''} {short_name or ''}")


__all__ = ["fold", "product_search_text"]
