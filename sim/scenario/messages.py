"""Values a user typed, shown in error messages cut short, so that a message stays readable
whatever the file holds (a 400-digit number, a 5,000-character name)."""

from __future__ import annotations

import reprlib
from typing import Any

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxdict = 6
_REPR.maxlevel = 3


def short_repr(value: Any) -> str:
    """``repr`` of a value, cut short."""
    try:
        return _REPR.repr(value)
    except (ValueError, RecursionError):  # an integer of thousands of digits
        return f"a {type(value).__name__} too long to show"


def cut(text: str, limit: int = 60) -> str:
    """A text cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def cut_path(text: str, limit: int = 60) -> str:
    """A file's name or path cut to about ``limit`` characters from its start, so that the file's
    own name, at the end, always shows."""
    return text if len(text) <= limit else f"...{text[-limit:]}"
