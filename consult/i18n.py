"""Translation helpers shared by every package (Babel catalogs under `locales/`).

`_` translates now (in the request's locale); `lazy_gettext` marks module-level strings that are
translated when shown. Both are extracted by `make messages`.
"""

from __future__ import annotations

from pathlib import Path

from starlette_babel import get_translator, gettext_lazy
from starlette_babel import gettext as _gettext

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED_LOCALES = ["zh_CN", "en"]
DEFAULT_LOCALE = "zh_CN"

_loaded = False


def load_translations() -> None:
    """Load the compiled catalogs once per process (idempotent)."""
    global _loaded
    if not _loaded:
        get_translator().load_from_directories([LOCALES_DIR])
        _loaded = True


def _(msgid: str, **params: object) -> str:
    text = _gettext(msgid)
    return text.format(**params) if params else text


def lazy_gettext(msgid: str) -> str:
    return gettext_lazy(msgid)





# --- formatting shown to users -------------------------------------------------------------

DISPLAY_TIMEZONE = "Asia/Shanghai"


def format_money(fen: int | None, locale: str | None = None) -> str:
    """Integer fen as yuan in the locale's currency format ("¥12,000" / "CN¥12,000.50")."""
    from decimal import Decimal

    from babel.numbers import format_currency
    from starlette_babel import get_locale

    if fen is None:
        return ""
    amount = Decimal(int(fen)) / 100
    loc = locale or str(get_locale())
    if int(fen) % 100 == 0:
        return format_currency(amount, "CNY", format="¤#,##0", locale=loc, currency_digits=False)
    return format_currency(amount, "CNY", locale=loc)


def format_number(value: int | float | None, locale: str | None = None) -> str:
    from babel.numbers import format_decimal
    from starlette_babel import get_locale

    if value is None:
        return ""
    return format_decimal(value, locale=locale or str(get_locale()))


def format_percent(value: float | None, locale: str | None = None) -> str:
    from babel.numbers import format_percent as _fp
    from starlette_babel import get_locale

    if value is None:
        return "–"
    return _fp(value, format="#,##0.0%", locale=locale or str(get_locale()))


def format_dt(value, format: str = "medium", locale: str | None = None) -> str:  # noqa: A002
    """An aware UTC datetime shown in the district's time zone and the user's locale."""
    from babel.dates import format_datetime
    from starlette_babel import get_locale

    if value is None:
        return ""
    return format_datetime(
        value, format=format, tzinfo=DISPLAY_TIMEZONE, locale=locale or str(get_locale())
    )


def format_day(value, format: str = "medium", locale: str | None = None) -> str:  # noqa: A002
    from babel.dates import format_date
    from starlette_babel import get_locale

    if value is None:
        return ""
    return format_date(value, format=format, locale=locale or str(get_locale()))
