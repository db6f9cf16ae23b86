"""Translation helpers shared by every package (Babel catalogs under `locales/`).

`_` translates now (in the request's locale); `lazy_gettext` marks module-level strings that are
translated when shown. Both are extracted by `make messages`.
"""

from __future__ import annotations

import functools
from pathlib import Path

from starlette_babel import get_locale, get_translator, gettext_lazy
from starlette_babel import gettext as _gettext

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED_LOCALES = ["zh_CN", "en"]
DEFAULT_LOCALE = "zh_CN"

_loaded = False


def load_translations() -> None:
    """Load the compiled catalogs once per process (idempotent)."""
    global _loaded
    if not _loaded:
        from babel import Locale
        from babel.support import Translations

        translator = get_translator()
        for name in SUPPORTED_LOCALES:
            catalog = Translations.load(str(LOCALES_DIR), [name], "messages")
            # The middleware names the locale as Babel spells it ("zh_Hans_CN" for zh_CN),
            # so the catalog is registered under that name too.
            for alias in {name, str(Locale.parse(name))}:
                translator.add_translations(alias, catalog, "messages")
        _loaded = True


def _(msgid: str, **params: object) -> str:
    text = _gettext(msgid)
    return text.format(**params) if params else text


def lazy_gettext(msgid: str) -> str:
    return gettext_lazy(msgid)





# --- formatting shown to users -------------------------------------------------------------

DISPLAY_TIMEZONE = "Asia/Shanghai"


def format_money(fen: int | None, locale: str | None = None) -> str:
    """Integer fen as yuan, grouped in the locale's way: "¥12,000", "¥12,000.50".

    The sign is "¥" in every locale (English readers in China know it; Babel's "CN¥" is for
    readers abroad). Whole yuan are shown without decimals.
    """
    if fen is None:
        return ""
    fen = int(fen)
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    yuan, cents = divmod(fen, 100)
    symbols = _number_symbols(locale or str(get_locale()))
    grouped = f"{yuan:,}".replace(",", symbols[0])
    text = f"{grouped}{symbols[1]}{cents:02d}" if cents else grouped
    return f"{sign}¥{text}"


@functools.lru_cache(maxsize=16)
def _number_symbols(locale: str) -> tuple[str, str]:
    """(group separator, decimal point) of a locale, looked up once."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return get_group_symbol(locale), get_decimal_symbol(locale)


def format_number(value: int | float | None, locale: str | None = None) -> str:
    """A count grouped in the locale's way ("12,345"); whole numbers skip Babel's slow path."""
    from babel.numbers import format_decimal

    if value is None:
        return ""
    locale = locale or str(get_locale())
    if isinstance(value, int):
        sign = "-" if value < 0 else ""
        return sign + f"{abs(value):,}".replace(",", _number_symbols(locale)[0])
    return format_decimal(value, locale=locale)


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
