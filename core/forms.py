"""Parsing form input into domain values, collecting a message per bad field.

Usage in a service or endpoint:
    errors = {}
    cost = parse_yuan(form.get("cost"), "cost", errors)
    if errors: raise ValidationError(errors=errors)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from core.i18n import _

MAX_FEN = 10**14  # a trillion yuan: anything larger is a typo
# The largest whole number a field may hold: what a 32-bit integer column holds (PostgreSQL's
# INTEGER), on both databases alike.
MAX_INT = 2**31 - 1

# Control characters (C0 but tab, line feed and carriage return; DEL; C1): never typed by a
# person, and a NUL is refused by PostgreSQL (a 500). Removed from every form value and query
# parameter (core.web.security) before an endpoint sees it.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_controls(value: str) -> str:
    """`value` without control characters (tab, line feed and carriage return are kept)."""
    return CONTROL_CHARACTERS.sub("", value) if CONTROL_CHARACTERS.search(value) else value


def text(
    value: object,
    field: str,
    errors: dict[str, str],
    *,
    required: bool = True,
    max_length: int | None = None,
) -> str:
    result = strip_controls(str(value or "")).strip()
    if required and not result:
        errors[field] = _("This field is required.")
    elif max_length is not None and len(result) > max_length:
        errors[field] = _("At most {n} characters.", n=max_length)
    return result


# What a money field accepts: yuan in ASCII digits, optionally grouped by thousands with "," or
# the full-width "，" (in correct groups of three), with at most two decimals after ".", an
# optional ¥ or ￥ before and 元 after. Not accepted: exponents (1e30), NaN or Infinity,
# full-width digits, "1_000", "100,00", spaces inside the number.
_YUAN = re.compile(
    r"[¥￥]?\s*(?P<sign>-?)(?P<whole>[0-9]{1,3}(?:[,，][0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?"
    r"\s*元?"
)


def parse_yuan(
    value: object,
    field: str,
    errors: dict[str, str],
    *,
    required: bool = True,
    allow_zero: bool = False,
) -> int | None:
    """An amount in yuan → fen (exact): '12000', '12,000.50', '¥12000', '12000元' or
    '12，000' give 1200000 or 1200050. Accepted: ASCII digits, thousands separators "," or
    "，" only in groups of three, at most two decimals, an optional ¥/￥ before or 元 after.
    Anything else (exponents such as 1e30, NaN, Infinity, full-width digits, '1_000',
    '100,00', spaces inside the number) is refused with a message giving the accepted form."""
    raw = str(value or "").strip()
    if not raw:
        if required:
            errors[field] = _("This field is required.")
        return None
    match = _YUAN.fullmatch(raw)
    if match is None:
        errors[field] = _(
            "Enter an amount in yuan in digits 0-9, for example 12000, 12,000 or 12000.50"
            " (no exponents, thousands separated by commas in groups of three)."
        )
        return None
    whole = match["whole"].replace(",", "").replace("，", "")
    frac = match["frac"] or ""
    if len(frac) > 2:
        errors[field] = _("Enter an amount in yuan with at most two decimals.")
        return None
    if len(whole.lstrip("0")) > len(str(MAX_FEN)):
        errors[field] = _("This amount is too large.")
        return None
    fen = int(whole) * 100 + int(frac.ljust(2, "0"))
    if match["sign"] and fen:
        fen = -fen
    if fen < 0 or (fen == 0 and not allow_zero):
        errors[field] = _("The amount must be more than zero.")
        return None
    if fen > MAX_FEN:
        errors[field] = _("This amount is too large.")
        return None
    return fen


def parse_int(
    value: object,
    field: str,
    errors: dict[str, str],
    *,
    required: bool = True,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """A whole number in ASCII digits (optionally signed, thousands grouped by ","), within
    `minimum`..`maximum` and always within ±MAX_INT (what an integer column holds)."""
    raw = str(value or "").strip().replace(",", "")
    if not raw:
        if required:
            errors[field] = _("This field is required.")
        return None
    digits = raw[1:] if raw[0] in "+-" else raw
    if not (digits.isascii() and digits.isdigit()):
        errors[field] = _("Enter a whole number.")
        return None
    number = int(raw) if len(digits) <= 12 else MAX_INT + 1
    minimum = -MAX_INT if minimum is None else max(minimum, -MAX_INT)
    maximum = MAX_INT if maximum is None else min(maximum, MAX_INT)
    if number < minimum:
        errors[field] = _("Enter a number of at least {n}.", n=minimum)
        return None
    if number > maximum:
        errors[field] = _("Enter a number of at most {n}.", n=maximum)
        return None
    return number


def int_param(value: str | None, default: int | None = None) -> int | None:
    """A whole number from a query parameter (ASCII digits, optionally signed, within
    ±MAX_INT), else `default`: a value that means nothing is ignored, never a 500."""
    raw = (value or "").strip()
    digits = raw[1:] if raw.startswith(("+", "-")) else raw
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        return default
    number = int(raw)
    return number if -MAX_INT <= number <= MAX_INT else default


def parse_date(
    value: object, field: str, errors: dict[str, str], *, required: bool = False
) -> date | None:
    raw = str(value or "").strip()
    if not raw:
        if required:
            errors[field] = _("This field is required.")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None


def fen_to_yuan_input(fen: int | None) -> str:
    """What a money field shows when a form is re-displayed (no currency sign, no grouping)."""
    if fen is None:
        return ""
    yuan = Decimal(fen) / 100
    return f"{yuan:.0f}" if fen % 100 == 0 else f"{yuan:.2f}"


def getlist(data: Mapping[str, Any], key: str) -> list[str]:
    """Every value of a repeated form field (a Starlette FormData, or a dict in tests)."""
    if hasattr(data, "getlist"):
        values = data.getlist(key)
    else:
        values = data.get(key) or []
        values = values if isinstance(values, list | tuple | set) else [values]
    return [str(v) for v in values if str(v).strip()]
