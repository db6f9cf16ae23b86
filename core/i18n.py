"""Translation helpers shared by every package (Babel catalogs under `locales/`).

`_` translates now (in the request's locale); `lazy_gettext` marks module-level strings that are
translated when shown. Both are extracted by `make messages`.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel import Locale
from babel.support import Translations
from starlette_babel import get_locale, get_translator, gettext_lazy
from starlette_babel.translator import _apply_count

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED_LOCALES = ["zh_CN", "en"]
DEFAULT_LOCALE = "zh_CN"

_loaded = False


def load_translations() -> None:
    """Load the compiled catalogs once per process (idempotent)."""
    global _loaded
    if not _loaded:
        translator = get_translator()
        _CATALOGS.clear()
        _LABELS.clear()
        for name in SUPPORTED_LOCALES:
            catalog = Translations.load(str(LOCALES_DIR), [name], "messages")
            # The middleware names the locale as Babel spells it ("zh_Hans_CN" for zh_CN),
            # so the catalog is registered under that name too.
            for alias in {name, str(Locale.parse(name))}:
                translator.add_translations(alias, catalog, "messages")
        _loaded = True


def _(msgid: str, **params: object) -> str:
    text = _catalog().gettext(msgid)
    return text.format(**params) if params else text


def labelled(label: str, value: object) -> str:
    """ "label: value" with the colon of the current language ("预算：¥50,000" in Chinese)."""
    return _("{label}: {value}", label=label, value=value)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for `count`, translated now (not formatted)."""
    return _catalog().ngettext(singular, plural, count)


def lazy_gettext(msgid: str) -> str:
    return gettext_lazy(msgid)


# --- the current locale and its catalog, looked up once per locale ---------------------------
#
# starlette-babel names the locale as a string on every call (`str(get_locale())`) and Babel
# parses that string again in every formatting call; a page with a few dozen strings and
# numbers spent a large part of its time there. The objects are few and never change.

_CATALOGS: dict[Locale, Any] = {}


def _catalog() -> Any:
    """The translations of the current locale (what starlette-babel's `gettext` would use)."""
    locale = get_locale()
    catalog = _CATALOGS.get(locale)
    if catalog is None:
        catalog = get_translator().get_translations(str(locale))
        if isinstance(catalog, Translations):  # a loaded catalog, not a stand-in
            _CATALOGS[locale] = catalog
    return catalog


# Keyed by the enum's type too: members of two enums with the same value (a round's phase
# "closed", a procurement's status "closed") are equal as strings but have their own labels.
_LABELS: dict[tuple[Locale, type, Any], str] = {}


def label(member: Any) -> str:
    """`member.label` of an enum with translated labels (a category, a status), translated
    once per locale: a list page shows the same few labels on every card."""
    key = (get_locale(), type(member), member)
    text = _LABELS.get(key)
    if text is None:
        text = str(member.label)
        if _loaded:
            _LABELS[key] = text
    return text


def per_locale(build: Any) -> Any:
    """`build()` (texts in the current locale) made once per locale and then reused: for the
    fixed strings a page repeats on every row. Like `label`, nothing is kept before the
    catalogs are loaded."""
    made: dict[Locale, Any] = {}

    @functools.wraps(build)
    def cached() -> Any:
        locale = get_locale()
        value = made.get(locale)
        if value is None:
            value = build()
            if _loaded:
                made[locale] = value
        return value

    return cached


@functools.lru_cache(maxsize=64)
def parse_locale(identifier: str) -> Locale:
    """`Locale.parse`, once per identifier (Babel's Locale objects are immutable in use)."""
    return Locale.parse(identifier)


def _current(locale: str | Locale | None) -> Locale:
    if locale is None:
        return get_locale()
    return locale if isinstance(locale, Locale) else parse_locale(locale)


class _FastGettext:
    """The `_`/`ngettext` Jinja calls: starlette-babel's, with the catalog looked up once per
    locale (same texts, same `{count}` handling)."""

    def gettext(self, msgid: str, domain: str = "messages", locale: str | None = None) -> str:
        if locale is not None or domain != "messages":
            return get_translator().gettext(
                msgid, locale=str(locale or get_locale()), domain=domain
            )
        return _catalog().gettext(msgid)

    def ngettext(
        self,
        singular: str,
        plural: str,
        count: int,
        locale: str | None = None,
        domain: str = "messages",
    ) -> str:
        if locale is not None or domain != "messages":
            return get_translator().ngettext(
                singular, plural, count, locale=str(locale or get_locale()), domain=domain
            )
        return _apply_count(_catalog().ngettext(singular, plural, count), count)

    def pgettext(
        self, context: str, msgid: str, domain: str = "messages", locale: str | None = None
    ) -> str:
        return get_translator().pgettext(
            context, msgid, locale=str(locale or get_locale()), domain=domain
        )

    def npgettext(
        self,
        context: str,
        singular: str,
        plural: str,
        count: int,
        locale: str | None = None,
        domain: str = "messages",
    ) -> str:
        return get_translator().npgettext(
            context, singular, plural, count, locale=str(locale or get_locale()), domain=domain
        )


def install_fast_gettext(env: Any) -> None:
    """Replace the gettext functions starlette-babel installed in a Jinja environment."""
    fast = _FastGettext()
    env.globals.update(_=fast.gettext, _p=fast.ngettext, _c=fast.pgettext, _cp=fast.npgettext)
    env.install_gettext_translations(fast)


# --- formatting shown to users -------------------------------------------------------------

DISPLAY_TIMEZONE = "Asia/Shanghai"


@functools.cache
def _display_tz() -> Any:
    from babel.dates import get_timezone

    return get_timezone(DISPLAY_TIMEZONE)


def local_today() -> date:
    """Today in the district (not in UTC): the latest date a payment or a delivery may bear."""
    return datetime.now(_display_tz()).date()


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
    symbols = _number_symbols(_current(locale))
    grouped = f"{yuan:,}".replace(",", symbols[0])
    text = f"{grouped}{symbols[1]}{cents:02d}" if cents else grouped
    return f"{sign}¥{text}"


@functools.lru_cache(maxsize=16)
def _number_symbols(locale: Locale) -> tuple[str, str]:
    """(group separator, decimal point) of a locale, looked up once."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return get_group_symbol(locale), get_decimal_symbol(locale)


def format_number(value: int | float | None, locale: str | None = None) -> str:
    """A count grouped in the locale's way ("12,345"); whole numbers skip Babel's slow path."""
    from babel.numbers import format_decimal

    if value is None:
        return ""
    locale = _current(locale)
    if isinstance(value, int):
        sign = "-" if value < 0 else ""
        return sign + f"{abs(value):,}".replace(",", _number_symbols(locale)[0])
    return format_decimal(value, locale=locale)


def format_percent(value: float | None, locale: str | None = None) -> str:
    from babel.numbers import format_percent as _fp

    if value is None:
        return "–"
    return _fp(value, format="#,##0.0%", locale=_current(locale))


def format_dt(value, format: str = "medium", locale: str | None = None) -> str:  # noqa: A002
    """An aware UTC datetime shown in the district's time zone and the user's locale."""
    from babel.dates import format_datetime

    if value is None:
        return ""
    locale = _current(locale)
    plain = _plain_dt_pattern(locale, format)
    if plain is not None and type(value) is datetime and value.tzinfo is not None:
        text, months, periods = plain
        local = value.astimezone(_display_tz())
        hour12 = local.hour % 12 or 12
        return text % {
            "y": local.year,
            "yyyy": f"{local.year:04d}",
            "yy": f"{local.year % 100:02d}",
            "M": local.month,
            "MM": f"{local.month:02d}",
            "MMM": months[local.month],
            "d": local.day,
            "dd": f"{local.day:02d}",
            "H": local.hour,
            "HH": f"{local.hour:02d}",
            "h": hour12,
            "hh": f"{hour12:02d}",
            "mm": f"{local.minute:02d}",
            "ss": f"{local.second:02d}",
            "a": periods[local.hour >= 12],
        }
    return format_datetime(value, format=format, tzinfo=_display_tz(), locale=locale)


# the date and time fields `format_dt` writes itself; any other goes to Babel
_PLAIN_DT_FIELDS = {
    *("y", "yyyy", "yy", "M", "MM", "MMM", "d", "dd"),
    *("H", "HH", "h", "hh", "mm", "ss", "a"),
}


@functools.lru_cache(maxsize=16)
def _plain_dt_pattern(
    locale: Locale,
    format: str,  # noqa: A002
) -> tuple[str, dict[int, str], tuple[str, str]] | None:
    """A named date-and-time format of a locale as one %-format string, its abbreviated month
    names and its (am, pm) marks, when it uses only plain fields: a discussion page writes a
    time on every comment, and Babel's general formatter costs ~50 µs each. None otherwise."""
    import re

    from babel.dates import get_date_format, get_datetime_format, get_period_names, get_time_format

    if format not in ("short", "medium", "long", "full"):
        return None
    pattern = get_datetime_format(format, locale=locale)
    day = get_date_format(format, locale=locale).format
    time_ = get_time_format(format, locale=locale).format
    if "%" in pattern or "{0}" not in pattern or "{1}" not in pattern:
        return None
    text = pattern.replace("{0}", time_).replace("{1}", day)
    if not set(re.findall(r"%\((\w+)\)s", text)) <= _PLAIN_DT_FIELDS:
        return None
    names = get_period_names(width="abbreviated", context="format", locale=locale)
    return text, dict(locale.months["format"]["abbreviated"]), (names["am"], names["pm"])


def format_day(value, format: str = "medium", locale: str | None = None) -> str:  # noqa: A002
    from babel.dates import format_date

    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None:
        # the day it was in the district, not in UTC (an evening there is the next day's UTC)
        value = value.astimezone(_display_tz()).date()
    locale = _current(locale)
    plain = _plain_day_pattern(locale, format)
    if plain is not None and type(value) is date:
        text, months = plain
        return text % {
            "y": value.year,
            "yyyy": f"{value.year:04d}",
            "M": value.month,
            "MM": f"{value.month:02d}",
            "MMM": months[value.month],
            "d": value.day,
            "dd": f"{value.day:02d}",
        }
    return format_date(value, format=format, locale=locale)


# the date fields `format_day` writes itself; any other (a weekday, an era…) goes to Babel
_PLAIN_DAY_FIELDS = {"y", "yyyy", "M", "MM", "MMM", "d", "dd"}


@functools.lru_cache(maxsize=16)
def _plain_day_pattern(locale: Locale, format: str) -> tuple[str, dict[int, str]] | None:  # noqa: A002
    """A named date format of a locale as a %-format string and its abbreviated month names,
    when it uses only plain fields (numbers, abbreviated months): Babel's general formatter
    costs ~10 µs a date, and a list page writes dozens. None for anything else."""
    import re

    from babel.dates import get_date_format

    if format not in ("short", "medium", "long", "full"):
        return None
    text = get_date_format(format, locale=locale).format
    if not set(re.findall(r"%\((\w+)\)s", text)) <= _PLAIN_DAY_FIELDS:
        return None
    return text, dict(locale.months["format"]["abbreviated"])
