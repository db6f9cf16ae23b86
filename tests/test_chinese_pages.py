"""Every page read in Chinese reads as Chinese: no English word that the interface wrote (an
untranslated string, a raw key such as `ballot.cast`, an English error) and no ASCII sentence
punctuation right after a Han character ("汉字." "汉字," "汉字:" "汉字(").

What is not the interface's own text is left out on principle, not by listing today's
exceptions: scripts and styles, attribute values, code / pre / kbd / samp, form fields'
contents, anything marked as another language (`lang="en"`, the language switch), e-mail
addresses, web addresses and file names, quoted values and the examples after 例如, and
every word that the test's data itself stores (titles, names, usernames typed by the
fixtures, which are English). Names that stay Latin in Chinese text (yishi, Pabulib, CSV, …),
acronyms and keywords in capitals, and a code glossed in Chinese ("month（月份）") are allowed.
A raw key (`ballot.cast`, `proposal_reviewed`) never is. A space between a name and its
particle ("东门社区 的") is caught too."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from tortoise import Tortoise, fields

from core.models import Role
from tests.helpers import login, page_text
from tests.test_pages import _fill, _seed, _walk

# Names, formats and units that Chinese text keeps in Latin letters.
ALLOWED = {
    "yishi", "pabulib", "csv", "xlsx", "xls", "ocds", "json", "pb", "id", "qr", "pdf", "url",
    "png", "jpeg", "jpg", "webp", "gif", "html", "http", "https", "javascript", "htmx", "utf",
    "kb", "mb", "gb", "excel", "wps", "sms", "api", "ip", "iso", "csrf", "icalendar",
}  # fmt: skip

_SKIPPED = {"script", "style", "code", "pre", "kbd", "samp", "textarea", "option", "template"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
_VOID |= {"track", "wbr"}
HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z][A-Za-z'’]*(?:[._-][A-Za-z]+)*(?![A-Za-z0-9])")
ASCII_AFTER_HAN = re.compile(HAN + r"[.,:;!?(]")
# a name put into a sentence with a space before its particle ("东门社区 的居民"); a space
# between two dates, or after a clause's number, is the layout's
SPACE_BETWEEN_HAN = re.compile(HAN + r" [的之地得]")
# what is not the interface's words: addresses, file and domain names, the examples of what to
# type, and what is quoted (a value from a file, a title)
ADDRESS = re.compile(
    r"\S+@\S+|\bhttps?://\S+|\b[\w.-]+\.(?:pb|csv|xlsx|json|png|pdf|org|com|cn|net)\b"
    r"|例如[^。；）]*|'[^'\n]*'|\"[^\"\n]*\"|“[^”]*”"
)


class _ChineseText(HTMLParser):
    """The text a reader of the Chinese page reads, in pieces (one per text node)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is its content skipped?
        self.pieces: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            return
        lang = (dict(attrs).get("lang") or "").lower()
        foreign = bool(lang) and not lang.startswith("zh")
        skipped = tag in _SKIPPED or foreign or (bool(self.stack) and self.stack[-1])
        self.stack.append(skipped)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag not in _VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.pieces.append(data)


def chinese_page_problems(html: str, data_words: set[str] = frozenset()) -> list[str]:
    """What a Chinese reader would stumble on: English words and ASCII punctuation after Han."""
    parser = _ChineseText()
    parser.feed(html)
    problems = []
    for piece in parser.pieces:
        text = " ".join(piece.split())
        if not text:
            continue
        for match in SPACE_BETWEEN_HAN.finditer(text):
            problems.append(f"space before a particle: …{_around(text, match.start())}…")
        for match in ASCII_AFTER_HAN.finditer(text):
            problems.append(f"ASCII punctuation after Han: …{_around(text, match.start())}…")
        plain = ADDRESS.sub(" ", text)
        for match in LATIN_WORD.finditer(plain):
            word = match.group(0)
            glossed = re.match(r"（" + HAN, plain[match.end() :]) is not None
            if _allowed(word, data_words, glossed):
                continue
            problems.append(f"English word {word!r}: …{_around(text, match.start())}…")
    return problems


def _allowed(word: str, data_words: set[str], glossed: bool = False) -> bool:
    """Allowed: the names above, the data's own words, acronyms and keywords in capitals
    (GBK, RRULE), letters standing alone (a-z), and a code explained in Chinese right after
    it (a column name: "month（月份）")."""
    if word.lower() in ALLOWED or word.lower() in data_words or glossed:
        return True
    if word.isupper() or all(len(p) == 1 for p in re.split(r"[._'’-]", word)):
        return True
    parts = re.split(r"[._'’-]", word)
    if "." in word or "_" in word:  # a raw key (ballot.cast, proposal_reviewed): never data
        return False
    return all(p.lower() in ALLOWED or p.lower() in data_words for p in parts if p)


def _around(text: str, at: int) -> str:
    return text[max(0, at - 20) : at + 25]


async def _data_words() -> set[str]:
    """Every Latin word the database holds in a text that someone typed (titles, names,
    bodies, usernames): the fixtures' own English, which a Chinese page shows as it is. Keys
    the code writes (enums, the audit log's actions, JSON details) are not typed by anyone."""
    words: set[str] = set()
    for app_models in Tortoise.apps.values():
        for model in app_models.values():
            if model._meta.db_table in ("audit_entry", "notification"):
                continue
            names = [
                name
                for name, field in model._meta.fields_map.items()
                if isinstance(field, fields.CharField | fields.TextField)
                and not getattr(field, "enum_type", None)
            ]
            if not names:
                continue
            for row in await model.all().values_list(*names):
                for value in row:
                    if isinstance(value, str):
                        words.update(w.lower() for w in re.findall(r"[A-Za-z]+", value))
    return words


@pytest.mark.parametrize("username", [None, "resident", "worker", "council", "finance"])
async def test_every_page_reads_as_chinese(app, client, db, username):
    ids = await _seed(app.state.settings.upload_dir)
    client.cookies.set("lang", "zh_CN")
    if username:
        await login(client, username)
    data_words = await _data_words()
    checked = 0
    found: dict[str, list[str]] = {}
    for path, methods in _walk(app.routes):
        if "GET" not in methods or path.startswith("/static") or path in ("/logout", "/language"):
            continue
        url = _fill(path, ids)
        response = await client.get(url)
        if response.status_code != 200 or "text/html" not in response.headers["content-type"]:
            continue
        assert 'lang="zh-CN"' in response.text[:200], url
        checked += 1
        if problems := chinese_page_problems(response.text, data_words):
            found[url] = problems
    assert checked >= 8
    assert not found, "\n".join(f"{url}: {p}" for url, ps in found.items() for p in ps)


def test_the_check_catches_what_it_should():
    bad = (
        '<html lang="zh-CN"><p>已投票.</p><p>金额(元)</p><td>ballot.cast</td>'
        "<p>Vote now</p><p>东门:</p><p>东门社区 的居民</p></html>"
    )
    problems = chinese_page_problems(bad)
    assert any("'ballot.cast'" in p for p in problems)
    assert any("'Vote'" in p for p in problems)
    assert sum("ASCII punctuation" in p for p in problems) == 3
    assert any("space before a particle" in p for p in problems)
    good = (
        '<html lang="zh-CN"><p>导出 CSV 文件（UTF-8）。</p><a lang="en" href="/x?a=b">English</a>'
        "<code>make run</code><p>写信给 a@b.cn，或看 https://pabulib.org/x。</p>"
        '<input value="Hello"><textarea>Hello there</textarea><p>East Gate 的提案</p></html>'
    )
    assert chinese_page_problems(good, {"east", "gate"}) == []


async def test_the_audit_log_names_actions_and_details_in_the_readers_language(client, db):
    from core.audit import record
    from tests.helpers import make_user

    admin = await make_user("admin", role=Role.ADMIN)
    finance = await make_user("finance", role=Role.FINANCE)
    await record(admin, "account.create", finance, role="finance", username="finance")
    await record(finance, "procurement.cap_lowered", None, new_cap_fen=1_600_000_00)
    await record(admin, "ballot.cast", None)
    client.cookies.set("lang", "zh_CN")
    await login(client, "admin")
    text = page_text((await client.get("/audit")).text).replace(" ", "")
    assert "创建账户" in text and "网上投票" in text
    assert "角色：财务人员" in text and "新上限：¥1,600,000" in text and "调低预算上限" in text
    client.cookies.set("lang", "en")
    text = page_text((await client.get("/audit")).text)
    assert "Account created" in text and "Voted online" in text
    assert "Role: Finance officer" in text and "New cap: ¥1,600,000" in text


async def test_an_imported_project_says_where_it_came_from_in_the_readers_language(client, db):
    from budget.models import Proposal
    from budget.services.pabulib_import import import_pabulib
    from budget.services.studies import set_study_public
    from tests.budget.test_pabulib_io import SMALL_FILE
    from tests.helpers import make_user

    council = await make_user("council", role=Role.COUNCIL)
    study = await import_pabulib(council, "tiny.pb", SMALL_FILE.encode())
    await set_study_public(council, study.id, True, confirmed=True)
    p3 = await Proposal.get(round_id=study.id, external_id="p3")
    client.cookies.set("lang", "en")
    english = page_text((await client.get(f"/budget/proposals/{p3.id}")).text)
    assert "Project p3 of the imported election tiny.pb." in english
    client.cookies.set("lang", "zh_CN")
    chinese = page_text((await client.get(f"/budget/proposals/{p3.id}")).text)
    assert "导入的往届投票 tiny.pb 中的项目 p3。" in chinese


async def test_an_imported_election_says_what_its_file_was_in_the_readers_language(client, db):
    from budget.services.pabulib_import import import_pabulib
    from budget.services.studies import set_study_public
    from tests.budget.test_pabulib_io import SMALL_FILE
    from tests.helpers import make_user

    council = await make_user("council", role=Role.COUNCIL)  # imports in Chinese or English
    study = await import_pabulib(council, "tiny.pb", SMALL_FILE.encode())
    await set_study_public(council, study.id, True, confirmed=True)
    assert "Imported from" not in study.description and "导入" not in study.description
    client.cookies.set("lang", "en")
    english = await client.get(f"/budget/studies/{study.id}")
    # the file's own words are marked as not in the page's language
    assert 'tiny.pb (<span lang="und">Nowhere</span>, <span lang="und">2025</span>): 3 voters' in (
        english.text
    )
    assert "the rule used there: Method of Equal Shares." in page_text(english.text)
    assert "导入" not in page_text(english.text)
    client.cookies.set("lang", "zh_CN")
    chinese = await client.get(f"/budget/studies/{study.id}")
    assert '导入自 Pabulib 文件 tiny.pb（<span lang="und">Nowhere</span>、' in chinese.text
    assert "Imported from" not in page_text(chinese.text)


async def test_a_malformed_pb_file_is_refused_in_the_readers_language(db):
    from starlette_babel import set_locale

    from budget.services.pabulib_plan import parse_upload
    from core.errors import ValidationError
    from core.i18n import load_translations

    load_translations()
    bad = b"META\nkey;value\nbudget;abc\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
    set_locale("zh_CN")
    with pytest.raises(ValidationError) as refused:
        parse_upload("x.pb", bad)
    assert refused.value.message == "第 3 行：预算不是大于或等于 0 的数字：'abc'"
    assert chinese_page_problems(f"<p>{refused.value.message}</p>") == []
