"""Parsing form input into domain values, collecting a message per bad field.

Usage in a service or endpoint:
    errors = {}
    cost = parse_yuan(form.get("cost"), "cost", errors)
    if errors: raise ValidationError(errors=errors)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from core.i18n import _

MAX_FEN = 10**14  # a trillion yuan: anything larger is a typo


def text(
    value: object,
    field: str,
    errors: dict[str, str],
    *,
    required: bool = True,
    max_length: int | None = None,
) -> str:
    result = str(value or "").strip()
    if required and not result:
        errors[field] = _("This field is required.")
    elif max_length is not None and len(result) > max_length:
        errors[field] = _("At most {n} characters.", n=max_length)
    return result


def parse_yuan(
    value: object,
    field: str,
    errors: dict[str, str],
    *,
    required: bool = True,
    allow_zero: bool = False,
) -> int | None:
    """'12,000.50', '¥12000' or '12000' yuan → 1200050 fen (exact, via Decimal)."""
    raw = str(value or "").strip().replace(",", "").replace("，", "").replace("¥", "")
    raw = raw.replace("￥", "").replace("元", "").strip()
    if not raw:
        if required:
            errors[field] = _("This field is required.")
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        errors[field] = _("Enter an amount in yuan, for example 12000 or 12000.50.")
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        errors[field] = _("Enter an amount in yuan with at most two decimals.")
        return None
    fen = int(amount * 100)
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
    raw = str(value or "").strip().replace(",", "")
    if not raw:
        if required:
            errors[field] = _("This field is required.")
        return None
    try:
        number = int(raw)
    except ValueError:
        errors[field] = _("Enter a whole number.")
        return None
    if minimum is not None and number < minimum:
        errors[field] = _("Enter a number of at least {n}.", n=minimum)
        return None
    if maximum is not None and number > maximum:
        errors[field] = _("Enter a number of at most {n}.", n=maximum)
        return None
    return number


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
