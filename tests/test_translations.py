"""Every visible string is in the catalog and translated into Chinese, with the same
placeholders (a missing {name} shows as a blank; a stray one breaks the page)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sd]")


def _read(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def _ids(catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_the_catalog_template_has_every_string_of_the_code(tmp_path):
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "pyproject.toml"), "-k", "_l",
         "-k", "lazy_gettext", "-o", str(fresh), "--no-location", "--sort-output", str(ROOT)]
    )  # fmt: skip
    missing = _ids(_read(fresh)) - _ids(_read(LOCALES / "messages.pot"))
    assert sorted(missing) == [], "run `make messages`, then translate locales/zh_CN"


def test_every_string_is_translated_into_chinese_with_its_placeholders():
    catalog = _read(LOCALES / "zh_CN" / "LC_MESSAGES" / "messages.po")
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(texts):
            wrong.append(f"untranslated: {ids[0]!r}")
            continue
        wanted = set(PLACEHOLDER.findall(" ".join(ids)))
        for text in texts:
            if set(PLACEHOLDER.findall(text)) != wanted:
                wrong.append(f"placeholders differ: {ids[0]!r} → {text!r}")
    assert wrong == []
