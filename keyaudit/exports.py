"""Safe exports: spreadsheet programs run cells that start with = + - @ (or tab/CR) as formulas."""

from __future__ import annotations

from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Prefix a quote to text a spreadsheet would evaluate; numbers pass through unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
