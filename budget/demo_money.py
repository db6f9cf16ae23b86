"""Demo data, the money: the finished 2025 round's funded proposals followed from the vote to
the last payment (`load_demo_money`, called by `budget.demo.load_demo_data` once the round's
results are published and it is implementing).

Everything goes through the real services, as the finance officer and the council would have
done it in the app: converting, moving along, the contract's commitment, payments, a
reversal, cap changes (one lowered, one raise approved, one refused), milestones and
documents (small real PDF and PNG files written to the upload directory). Each step is then
back-dated to its day on the round's timetable (its audit entries, history and ledger rows'
times), as `budget.demo._publish_results` does for the results: no date is in the future.
Residents' ratings are written as rows (see `_rate`).

The stories, one per funded proposal, cover every stage: planned, tendering, contracted (with a
refused cap raise), in progress (one late), delivered (one late, one with an approved raise,
one with a mistaken payment reversed), closed (one with its unspent commitment released) and
cancelled (its commitment released). Deterministic: amounts are written out, the rest comes
from a seeded random generator (only the documents' stored names are random, as in the app).
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette_babel import switch_locale
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from budget.models import (
    CapChange,
    DocumentKind,
    EntryKind,
    LedgerEntry,
    Milestone,
    Procurement,
    ProcurementDocument,
    ProcurementEvent,
    ProcurementStatus,
    Proposal,
    ProposalStatus,
    Rating,
    Round,
)
from budget.services import ledger, procurement_caps, procurement_files, procurements
from budget.services.photos import Upload
from core.forms import fen_to_yuan_input
from core.i18n import DEFAULT_LOCALE, DISPLAY_TIMEZONE, load_translations, local_today
from core.models import AuditEntry, Role, User

SEED = 20250901
S = ProcurementStatus
LOCAL = ZoneInfo(DISPLAY_TIMEZONE)

# --- suppliers: Chinese companies with well-formed unified social credit codes ----------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_check(code8: str) -> str:
    """The check character of a 9-character organisation code (GB 11714)."""
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w
        for c, w in zip(code8, _ORG_WEIGHTS, strict=True)
    )
    rest = 11 - total % 11
    return {10: "X", 11: "0"}.get(rest, str(rest))


def uscc_check(code17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100)."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def make_uscc(rng: random.Random, division: str) -> str:
    """A plausible code of a company registered after 2015: 91 (an enterprise), the division,
    an organisation code "MA……" with its check character, then the code's own check."""
    org = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    body = "91" + division + org + _org_check(org)
    return body + uscc_check(body)


# name, administrative division (海口市 460100, 琼山区 460107, 龙华区 460106, 美兰区 460108)
SUPPLIERS = {
    "handrails": ("海口市琼山区安居建设工程有限公司", "460107"),
    "lights": ("海南明光照明工程有限公司", "460100"),
    "kiosks": ("海口市龙华区绿源市政工程有限公司", "460106"),
    "playground": ("海南童乐游乐设备有限公司", "460100"),
    "flood": ("海口市美兰区安澜应急物资有限公司", "460108"),
    "stairlights": ("海口市琼山区恒亮电气安装有限公司", "460107"),
    "books": ("海口市书香文化用品有限公司", "460100"),
    "meals": ("海口市琼山区颐康餐饮管理有限公司", "460107"),
}

# --- small real files ---------------------------------------------------------------------


def _pdf_text(line: str) -> tuple[str, str]:
    """(font, string operand) for one line: Helvetica for plain ASCII, else the standard
    Chinese font STSong-Light (every PDF reader knows it; nothing is embedded) in UCS-2."""
    if line.isascii():
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return "F1", f"({escaped})"
    return "F2", "<" + line.encode("utf-16-be").hex().upper() + ">"


def pdf_document(title: str, lines: list[str]) -> bytes:
    """A one-page A4 PDF 1.4: a title and lines of text, with a correct cross-reference table."""
    ops = ["BT", "56 770 Td"]
    font, operand = _pdf_text(title)
    ops += [f"/{font} 18 Tf", f"{operand} Tj", "0 -36 Td"]
    for line in lines:
        font, operand = _pdf_text(line)
        ops += [f"/{font} 11 Tf", f"{operand} Tj", "0 -22 Td"]
    ops.append("ET")
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 8 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
        b"/FontDescriptor 7 0 R /DW 1000 >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
        b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
        b"/CapHeight 880 /StemV 93 >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def png_picture(rng: random.Random, width: int = 160, height: int = 120) -> bytes:
    """A small RGB PNG of a site photo's shape: sky, a building with windows, the ground."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    left = rng.randrange(10, width // 3)
    right = rng.randrange(2 * width // 3, width - 10)
    roof = rng.randrange(height // 5, height // 3)
    ground = height - height // 5
    rows = []
    for y in range(height):
        row = bytearray(b"\0")  # filter: none
        for x in range(width):
            if y >= ground:
                pixel = (96, 128, 72)  # grass and paving
            elif left <= x < right and y >= roof:
                window = (x - left) % 14 in range(4, 10) and (y - roof) % 16 in range(5, 11)
                pixel = (70, 90, 120) if window else (214, 196, 170)
            else:
                shade = 255 - y * 60 // height
                pixel = (shade * 3 // 5, shade * 4 // 5, shade)  # sky
            row += bytes(pixel)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


# --- residents' ratings ---------------------------------------------------------------------

# per story: (how many rate, weights of the scores 1–5, comments by score)
RATINGS = {
    "handrails": (
        28,
        (3, 5, 12, 30, 50),
        {
            5: [
                "扶手很结实，我母亲上下楼放心多了。",
                "两侧都有扶手，雨天也不怕滑了，感谢议事会。",
                "施工很快，工人还把楼道打扫干净了。",
            ],
            4: ["质量不错，就是颜色跟墙面不太搭。", "扶手高度合适，希望转角处也能加一段。"],
            3: ["扶手装好了，但有一段离墙太近，手不好握。"],
            2: ["施工期间噪音大，也没有提前通知。"],
            1: ["我们单元只装了一侧，和公示的方案不一样。"],
        },
    ),
    "kiosks": (
        22,
        (8, 12, 25, 30, 25),
        {
            5: ["有了遮雨棚和洗手池，扔垃圾方便多了。", "小区门口干净了不少，异味也少了。"],
            4: ["分类标识很清楚，老人也看得懂。"],
            3: ["分类亭不错，但开放时间太短，上班族赶不上。"],
            2: ["夏天气味还是比较大，希望增加清洗次数。", "工期拖了一个多月，围挡一直占着路。"],
            1: ["北门的亭子离住户窗户太近了。"],
        },
    ),
    "stairlights": (
        19,
        (3, 5, 12, 35, 45),
        {
            5: ["晚上回家楼道终于亮了，老人走路安全了。", "线路也一起换了，这钱花得值。"],
            4: ["灯很亮，也省电。"],
            3: ["感应有点慢，要走到半层才亮。"],
            2: ["有两层的灯还是不亮，已经报给物业。"],
        },
    ),
    "books": (
        16,
        (3, 7, 15, 35, 40),
        {
            5: ["绘本很多，周末带孩子来看书。", "有了书架，图书角像个样子了。"],
            4: ["养生类的书很受欢迎，希望再多买一些。"],
            3: ["书架有点挤，借阅登记要排队。"],
            2: ["开放时间只有工作日，上班的人用不上。"],
        },
    ),
}


class _Money:
    """The loader's state: who acts, the round's first day of implementing, the upload folder,
    and the marks that let each step's rows be back-dated."""

    def __init__(self, rnd: Round, upload_dir: Path, rng: random.Random) -> None:
        self.round, self.upload_dir, self.rng = rnd, upload_dir, rng
        self.start = rnd.implementing_starts
        self.today = local_today()
        self.funded: dict[str, Proposal] = {}
        self.finance = self.chair = self.council = None  # set by `load`
        self.marks: dict[type, int] = {}
        self.pending: list[tuple] = []  # see `later`
        self.last: dict[int, datetime] = {}  # per procurement: the time of its latest step
        self.vouchers: dict[date, int] = {}  # payment vouchers numbered per day

    async def load(self) -> None:
        self.finance = await User.get(username="finance")
        self.chair = await User.get(username="chair")
        self.council = await User.get(username="council")
        for proposal in await Proposal.filter(
            round_id=self.round.id, status=ProposalStatus.FUNDED
        ).prefetch_related("round", "area"):
            self.funded[proposal.title] = proposal
        for model in (AuditEntry, ProcurementEvent, LedgerEntry):
            ids = await model.all().order_by("-id").limit(1).values_list("id", flat=True)
            self.marks[model] = ids[0] if ids else 0

    # --- time -----------------------------------------------------------------------------

    def day(self, n: int) -> date:
        """The n-th day of implementing; never after today."""
        day = self.start + timedelta(days=n)
        if day > self.today:
            raise ValueError(f"demo step on day {n} would be in the future")
        return day

    def _when(self, p: Procurement, n: int) -> datetime:
        """A working-hours moment of day n, after the procurement's previous step."""
        moment = datetime.combine(
            self.day(n), time(self.rng.randrange(9, 17), self.rng.randrange(60)), tzinfo=LOCAL
        ).astimezone(UTC)
        previous = self.last.get(p.id)
        if previous is not None and moment <= previous:
            moment = previous + timedelta(minutes=self.rng.randrange(5, 40))
        moment = min(moment, datetime.now(UTC) - timedelta(minutes=1))
        self.last[p.id] = moment
        return moment

    @asynccontextmanager
    async def step(self, p: Procurement, n: int) -> AsyncIterator[datetime]:
        """Run one service call, then back-date what it wrote (audit entries, the history, ledger
        rows; the automatic release's date) to a moment of day n."""
        when = self._when(p, n)
        yield when
        for model in (AuditEntry, ProcurementEvent, LedgerEntry):
            new = await model.filter(id__gt=self.marks[model]).values_list("id", flat=True)
            if new:
                self.later(model, new, created_at=when)
                if model is LedgerEntry:
                    # a release made by closing or cancelling: the service dates it today
                    self.later(model, new, kind=EntryKind.RELEASE, entry_date=self.day(n))
                self.marks[model] = max(new)
        self.later(Procurement, [p.id], updated_at=when)

    def later(self, model: type, ids: list[int], kind: EntryKind | None = None, **values) -> None:
        """An update of rows' dates, made with the others in one transaction by `flush`."""
        self.pending.append((model, ids, kind, values))

    async def flush(self) -> None:
        async with in_transaction() as conn:
            for model, ids, kind, values in self.pending:
                query = model.filter(id__in=ids).using_db(conn)
                if kind is not None:
                    query = query.filter(kind=kind)
                await query.update(**values)
        self.pending.clear()

    # --- the services, one step each ------------------------------------------------------

    async def convert(
        self, proposal: Proposal, key: str, title: str, n: int, start: int, end: int
    ) -> Procurement:
        """The proposal becomes a procurement (its approved cost as cap) on day n, planned to
        run from day `start` to day `end`."""
        form = procurements.conversion_defaults(proposal, self.finance, self.round)
        form.update(
            title=title,
            planned_start=(self.start + timedelta(days=start)).isoformat(),
            planned_end=(self.start + timedelta(days=end)).isoformat(),
        )
        p = await procurements.convert_proposal(self.finance, proposal.id, form)
        p.demo_key = key
        p.area_name = proposal.area.name if proposal.area_id else ""
        async with self.step(p, n) as when:
            pass
        self.later(Procurement, [p.id], created_at=when)
        return p

    async def move(self, p: Procurement, status: ProcurementStatus, n: int, **form: str) -> None:
        async with self.step(p, n) as when:
            moved = await procurements.move_procurement(self.finance, p.id, status, form)
        p.status = moved.status
        if moved.status_enum.finished:
            self.later(Procurement, [p.id], finished_at=when)

    async def contract(self, p: Procurement, n: int, amount_fen: int) -> None:
        """The contract with the story's supplier, which commits its amount."""
        name, division = SUPPLIERS[p.demo_key]
        day = self.day(n)
        p.contract_ref = f"HT-{day:%Y%m%d}-{p.id:02d}"
        p.supplier_name = name
        await self.move(
            p,
            S.CONTRACTED,
            n,
            supplier_name=name,
            supplier_code=make_uscc(self.rng, division),
            contract_ref=p.contract_ref,
            contract_date=day.isoformat(),
            contract_amount=fen_to_yuan_input(amount_fen),
        )
        await self.pdf(
            p,
            n,
            DocumentKind.CONTRACT,
            f"{p.title}合同",
            [
                f"合同编号：{p.contract_ref}",
                f"项目名称：{p.title}",
                f"甲方：{self.buyer(p)}",
                f"乙方：{name}",
                f"合同金额：人民币{amount_fen // 100:,}.{amount_fen % 100:02d}元",
                f"签订日期：{day.year}年{day.month}月{day.day}日",
                "资金来源：社区微实事项目资金（居民投票确定）",
            ],
            public=True,
        )

    def buyer(self, p: Procurement) -> str:
        return f"{p.area_name}居民委员会" if p.area_name else "街道办事处"

    async def entry(
        self, p: Procurement, n: int, kind: EntryKind, amount_fen: int, note: str, ref: str = ""
    ) -> LedgerEntry:
        if not ref:
            day = self.day(n)
            self.vouchers[day] = self.vouchers.get(day, 0) + 1
            ref = f"ZF-{day:%Y%m%d}-{self.vouchers[day]:02d}"
        async with self.step(p, n):
            return await ledger.record_entry(
                self.finance,
                p.id,
                {
                    "kind": kind.value,
                    "amount": fen_to_yuan_input(amount_fen),
                    "entry_date": self.day(n).isoformat(),
                    "document_ref": ref,
                    "note": note,
                },
            )

    async def pay(self, p: Procurement, n: int, amount_fen: int, note: str, ref: str = ""):
        return await self.entry(p, n, EntryKind.PAY, amount_fen, note, ref)

    async def reverse(self, p: Procurement, entry: LedgerEntry, n: int, note: str) -> None:
        async with self.step(p, n):
            await ledger.reverse_entry(
                self.finance,
                entry.id,
                {"entry_date": self.day(n).isoformat(), "note": note},
            )

    async def milestone(
        self, p: Procurement, n: int, title: str, planned: int, note: str = ""
    ) -> Milestone:
        async with self.step(p, n) as when:
            milestone = await procurement_files.add_milestone(
                self.finance,
                p.id,
                {
                    "title": title,
                    "planned_date": (self.start + timedelta(days=planned)).isoformat(),
                    "note": note,
                },
            )
        self.later(Milestone, [milestone.id], created_at=when)
        return milestone

    async def done(self, p: Procurement, milestone: Milestone, n: int, note: str = "") -> None:
        async with self.step(p, n):
            await procurement_files.complete_milestone(
                self.finance, milestone.id, {"done_date": self.day(n).isoformat(), "note": note}
            )

    async def document(
        self,
        p: Procurement,
        n: int,
        kind: DocumentKind,
        title: str,
        data: bytes,
        filename: str,
        *,
        public: bool,
    ) -> None:
        async with self.step(p, n) as when:
            document = await procurement_files.add_document(
                self.finance,
                p.id,
                {"kind": kind.value, "title": title, "public": "1" if public else ""},
                Upload(filename, data),
                self.upload_dir,
            )
        self.later(ProcurementDocument, [document.id], created_at=when)

    async def pdf(
        self, p: Procurement, n: int, kind: DocumentKind, title: str, lines: list[str], *, public
    ) -> None:
        lines = [*lines, f"（{self.day(n).year}年{self.day(n).month}月{self.day(n).day}日）"]
        await self.document(
            p, n, kind, title, pdf_document(title, lines), f"{title}.pdf", public=public
        )

    async def photo(self, p: Procurement, n: int, title: str) -> None:
        await self.document(
            p,
            n,
            DocumentKind.OTHER,
            title,
            png_picture(self.rng),
            f"{title}.png",
            public=True,
        )

    async def raise_cap(self, p: Procurement, n: int, new_cap_fen: int, reason: str) -> CapChange:
        async with self.step(p, n) as when:
            change = await procurement_caps.request_cap_raise(
                self.finance, p.id, {"new_cap": fen_to_yuan_input(new_cap_fen), "reason": reason}
            )
        self.later(CapChange, [change.id], created_at=when)
        return change

    async def decide(
        self, p: Procurement, change: CapChange, n: int, by: User, approve: bool, note: str
    ) -> None:
        async with self.step(p, n) as when:
            await procurement_caps.decide_cap_change(
                by, change.id, approve, {"decision_note": note}
            )
        self.later(CapChange, [change.id], decided_at=when)

    async def lower_cap(self, p: Procurement, n: int, cap_fen: int) -> None:
        async with self.step(p, n):
            await procurement_caps.lower_cap(
                self.finance, p.id, {"cap": fen_to_yuan_input(cap_fen)}
            )


# --- the stories, one per funded proposal (days counted from the first day of implementing) ---

Y = 100  # fen per yuan


async def _handrails(m: _Money, proposal: Proposal) -> Procurement:
    """Closed: built on time, paid at the audited price; the rest of the commitment released."""
    p = await m.convert(proposal, "handrails", "东门一区老旧楼栋楼梯扶手加装工程", 3, 30, 120)
    await m.move(p, S.TENDERING, 10)
    await m.contract(p, 32, 65_800 * Y)
    steps = [
        await m.milestone(p, 33, "材料进场及样板段验收", 50),
        await m.milestone(p, 33, "1–6栋扶手安装", 80),
        await m.milestone(p, 33, "7–12栋扶手安装", 110),
        await m.milestone(p, 33, "竣工验收", 120),
    ]
    await m.pay(p, 40, 19_740 * Y, "预付款（合同金额的30%）")
    await m.move(p, S.IN_PROGRESS, 45)
    await m.done(p, steps[0], 48)
    await m.done(p, steps[1], 83, "6栋因住户装修协调，延后3天完成。")
    await m.pay(p, 90, 26_320 * Y, "进度款（1–6栋完工，合同金额的40%）")
    await m.done(p, steps[2], 112)
    await m.done(p, steps[3], 118, "街道、社区和居民代表联合验收，合格。")
    await m.move(p, S.DELIVERED, 118, delivered_on=m.day(118).isoformat())
    await m.pdf(
        p,
        119,
        DocumentKind.ACCEPTANCE,
        "竣工验收报告",
        [
            f"项目名称：{p.title}",
            f"施工单位：{p.supplier_name}",
            "验收范围：东门一区1–12栋楼梯两侧不锈钢扶手",
            "验收意见：安装牢固，高度和间距符合设计要求，同意验收。",
            "验收人员：街道城建办、东门社区居委会、居民代表3名",
        ],
        public=True,
    )
    await m.photo(p, 119, "完工现场照片")
    await m.pay(p, 150, 17_390 * Y, "结算尾款（审计结算价63,450元）")
    await m.pdf(
        p,
        150,
        DocumentKind.INVOICE,
        "结算尾款发票",
        [f"开票单位：{p.supplier_name}", "金额：人民币17,390.00元", "项目：楼梯扶手加装工程"],
        public=False,
    )
    await m.move(p, S.CLOSED, 152)  # the 2,350 yuan the audit saved go back to the envelope
    return p


async def _market_lights(m: _Money, proposal: Proposal) -> Procurement:
    """Contracted late (the lighting office had to approve the wiring); a raise was refused."""
    p = await m.convert(proposal, "lights", "东门菜市场至公交站步行道路灯改造", 3, 150, 340)
    approval = await m.milestone(p, 4, "线路接入方案报街道路灯管理所审批", 200)
    await m.done(p, approval, 236, "路灯管理所要求与主干道路灯共用配电箱，方案已按意见修改。")
    await m.move(p, S.TENDERING, 250)
    bidding = await m.milestone(p, 250, "比选公告及开标", 275)
    await m.milestone(p, 250, "灯杆基础及管线施工", 315)
    await m.milestone(p, 250, "通电调试及验收", 335)
    await m.done(p, bidding, 281, "共3家单位报价，最低价中标。")
    await m.contract(p, 285, 86_500 * Y)
    await m.pdf(
        p,
        286,
        DocumentKind.OTHER,
        "中标单位报价明细",
        [
            f"报价单位：{p.supplier_name}",
            "LED路灯（60W）16盏，含灯杆及基础",
            "电缆敷设约420米，配电箱改造1处",
            "报价合计：人民币86,500.00元",
        ],
        public=False,
    )
    change = await m.raise_cap(
        p,
        289,
        96_000 * Y,
        "施工前现场复核时，居民提出在公交站台东侧再增加2盏路灯，并将2根灯杆移位避开消防通道，"
        "经测算需增加约9,500元，申请将预算上限由88,000元提高到96,000元。",
    )
    await m.decide(
        p,
        change,
        293,
        m.chair,
        False,
        "公交站台照明属于公交公司的设施维护范围，不在居民投票通过的项目内容之内；灯杆移位请在"
        "合同金额内调整。如确有需要，可在下一年度另行提出项目。",
    )
    await m.pay(p, 298, 25_950 * Y, "预付款（合同金额的30%）")
    return p


async def _kiosks(m: _Money, proposal: Proposal) -> Procurement:
    """Delivered late; the advance payment entered twice, the copy reversed."""
    p = await m.convert(proposal, "kiosks", "南湖小区垃圾分类亭建设工程", 4, 90, 250)
    site = await m.milestone(p, 5, "选址方案经居民议事会和物业确认", 60)
    await m.done(p, site, 70, "北门亭址按居民意见后移5米，远离住户窗户。")
    await m.move(p, S.TENDERING, 72)
    await m.contract(p, 95, 47_200 * Y)
    steps = [
        await m.milestone(p, 96, "基础施工", 130),
        await m.milestone(p, 96, "亭体安装", 180),
        await m.milestone(p, 96, "给排水接通", 220),
        await m.milestone(p, 96, "竣工验收", 250),
    ]
    advance = "预付款（合同金额的30%）"
    first = await m.pay(p, 100, 14_160 * Y, advance)
    twice = await m.pay(p, 101, 14_160 * Y, advance, first.document_ref)
    await m.reverse(p, twice, 104, "与前一天的预付款重复录入（同一支付凭证），冲销此笔。")
    await m.move(p, S.IN_PROGRESS, 110)
    await m.done(p, steps[0], 133)
    await m.done(p, steps[1], 178)
    await m.pay(p, 185, 18_880 * Y, "进度款（亭体安装完成，合同金额的40%）")
    await m.done(p, steps[2], 255, "自来水接驳需等水务公司排期，比计划晚一个月。")
    await m.done(p, steps[3], 262, "验收合格，3座分类亭交付物业管理。")
    await m.move(p, S.DELIVERED, 262, delivered_on=m.day(262).isoformat())
    await m.pdf(
        p,
        263,
        DocumentKind.ACCEPTANCE,
        "竣工验收报告",
        [
            f"项目名称：{p.title}",
            f"施工单位：{p.supplier_name}",
            "验收范围：南湖小区3个出入口垃圾分类亭（含洗手池、遮雨棚）",
            "验收意见：工程质量合格，同意交付使用；尾款待结算审计后支付。",
        ],
        public=True,
    )
    await m.photo(p, 263, "北门垃圾分类亭完工照片")
    return p


async def _playground(m: _Money, proposal: Proposal) -> Procurement:
    """In progress and late: the safety surfacing failed its test."""
    p = await m.convert(proposal, "playground", "南湖公园儿童游乐设施更新采购及安装", 4, 60, 280)
    await m.move(p, S.TENDERING, 20)
    await m.contract(p, 70, 129_800 * Y)
    removal = await m.milestone(p, 71, "旧设施拆除", 100)
    arrival = await m.milestone(p, 71, "游乐设备进场", 200)
    await m.milestone(p, 71, "安全地垫铺设", 250)
    await m.milestone(p, 71, "安装调试及第三方安全检测", 275)
    await m.pay(p, 80, 38_940 * Y, "预付款（合同金额的30%）")
    await m.move(p, S.IN_PROGRESS, 95)
    await m.done(p, removal, 102)
    await m.done(p, arrival, 215, "滑梯组合为定制件，生产周期比合同约定延长两周。")
    await m.pay(p, 222, 51_920 * Y, "到货款（设备进场，合同金额的40%）")
    await m.pdf(
        p,
        256,
        DocumentKind.OTHER,
        "安全地垫检测报告",
        [
            "样品：EPDM塑胶安全地垫（厚度50毫米）",
            "检测项目：冲击吸收性能（临界跌落高度）",
            "检测结论：临界跌落高度1.2米，低于设计要求的1.5米，不合格。",
        ],
        public=False,
    )
    await m.milestone(
        p, 258, "更换地垫材料并重新送检", 300, "首批地垫检测不合格，已书面要求供应商更换材料。"
    )
    return p


async def _flood_supplies(m: _Money, proposal: Proposal) -> Procurement:
    """Cancelled: the supplier could not deliver before the flood season."""
    p = await m.convert(proposal, "flood", "西河社区防汛应急物资采购", 5, 15, 60)
    await m.move(p, S.TENDERING, 7)
    await m.contract(p, 20, 27_350 * Y)
    await m.milestone(p, 21, "物资到货验收", 50)
    await m.pdf(
        p,
        74,
        DocumentKind.OTHER,
        "解除合同协议",
        [
            f"甲方：{m.buyer(p)}",
            f"乙方：{p.supplier_name}",
            f"原合同编号：{p.contract_ref}",
            "乙方未能按合同约定时间交付抽水泵和救生衣，经两次书面催告仍无法供货。",
            "双方协商一致解除合同，甲方未支付任何款项，双方互不追究。",
        ],
        public=True,
    )
    await m.move(
        p,
        S.CANCELLED,
        75,
        reason="供应商未能在汛期前按合同交付抽水泵和救生衣，经两次催告仍无法供货，双方协商解除"
        "合同。汛期所需物资已由街道应急办从区级储备中调拨，本项目取消，预留资金退回西河社区预算。",
    )
    return p


async def _rehab_equipment(m: _Money, proposal: Proposal) -> Procurement:
    """Tendering: it waited for the day-care centre's rehabilitation room to be refitted."""
    p = await m.convert(proposal, "rehab", "西河社区日间照料中心康复器材采购", 5, 260, 335)
    room = await m.milestone(p, 6, "日间照料中心康复室改造完工", 240, "器材需待康复室改造后安装。")
    await m.done(p, room, 262, "康复室地面防滑改造完成，具备器材安装条件。")
    await m.move(p, S.TENDERING, 268)
    notice = await m.milestone(p, 268, "发布询价公告", 270)
    review = await m.milestone(p, 268, "评审确定供应商", 300)
    await m.milestone(p, 268, "签订合同", 315)
    await m.milestone(p, 268, "到货安装及验收", 335)
    await m.done(p, notice, 270)
    await m.done(p, review, 303, "3家供应商报价，评审结果公示中，公示期满后签订合同。")
    return p


async def _stair_lights(m: _Money, proposal: Proposal) -> Procurement:
    """Delivered, after an approved raise for the old wiring found on the way."""
    p = await m.convert(proposal, "stairlights", "西河小区楼道感应灯更换工程", 5, 25, 160)
    await m.move(p, S.TENDERING, 8)
    await m.contract(p, 22, 35_200 * Y)
    steps = [
        await m.milestone(p, 23, "1–12栋灯具更换", 70),
        await m.milestone(p, 23, "13–20栋灯具及线路更换", 110),
        await m.milestone(p, 23, "竣工验收", 150),
    ]
    await m.pay(p, 28, 10_560 * Y, "预付款（合同金额的30%）")
    await m.move(p, S.IN_PROGRESS, 30)
    change = await m.raise_cap(
        p,
        58,
        41_500 * Y,
        "施工中发现13–20栋楼道照明线路老化严重，只换灯具无法正常使用，需同步更换约600米线路。"
        "经造价咨询测算增加6,300元，申请将预算上限由36,000元提高到41,500元。",
    )
    await m.decide(
        p, change, 63, m.council, True, "线路老化存在安全隐患，同意调整；西河社区预算仍有结余。"
    )
    await m.entry(
        p,
        66,
        EntryKind.COMMIT,
        6_300 * Y,
        "补充协议：13–20栋楼道照明线路更换",
        f"{p.contract_ref}-补1",
    )
    await m.pdf(
        p,
        66,
        DocumentKind.CONTRACT,
        "补充协议",
        [
            f"原合同编号：{p.contract_ref}",
            f"乙方：{p.supplier_name}",
            "增加内容：13–20栋楼道照明线路更换约600米",
            "增加金额：人民币6,300.00元",
        ],
        public=True,
    )
    await m.done(p, steps[0], 68)
    await m.pay(p, 75, 14_080 * Y, "进度款（1–12栋完工，合同金额的40%）")
    await m.done(p, steps[1], 126, "线路更换与灯具安装同步完成。")
    await m.done(p, steps[2], 140)
    await m.move(p, S.DELIVERED, 140, delivered_on=m.day(140).isoformat())
    await m.pdf(
        p,
        141,
        DocumentKind.ACCEPTANCE,
        "竣工验收报告",
        [
            f"项目名称：{p.title}",
            "验收范围：西河小区1–20栋楼道感应灯及13–20栋照明线路",
            "验收意见：灯具全部正常点亮，线路绝缘测试合格，同意验收。",
        ],
        public=True,
    )
    await m.pay(p, 150, 6_300 * Y, "补充协议款（线路更换）")
    await m.pdf(
        p,
        150,
        DocumentKind.INVOICE,
        "补充协议款发票",
        [f"开票单位：{p.supplier_name}", "金额：人民币6,300.00元"],
        public=False,
    )
    return p


async def _books(m: _Money, proposal: Proposal) -> Procurement:
    """Closed: the cap lowered to the contract, paid in full on delivery."""
    p = await m.convert(proposal, "books", "北山社区图书角图书及书架采购", 6, 15, 75)
    await m.move(p, S.TENDERING, 8)
    await m.contract(p, 18, 24_380 * Y)
    await m.lower_cap(p, 19, 24_380 * Y)  # the 620 yuan left over go back to the envelope now
    arrival = await m.milestone(p, 19, "图书及书架到货", 45)
    shelving = await m.milestone(p, 19, "分类编目及上架", 60)
    await m.move(p, S.IN_PROGRESS, 20)
    await m.done(p, arrival, 44, "实到图书1,512册、书架2个，与清单一致。")
    await m.done(p, shelving, 52)
    await m.move(p, S.DELIVERED, 52, delivered_on=m.day(52).isoformat())
    await m.pdf(
        p,
        53,
        DocumentKind.ACCEPTANCE,
        "货物验收单",
        [
            f"供货单位：{p.supplier_name}",
            "儿童绘本820册，养生保健类390册，历史文化类302册，书架2个",
            "验收意见：数量、品种与合同清单一致，无破损，同意验收。",
        ],
        public=True,
    )
    await m.photo(p, 53, "图书角上架后照片")
    await m.pay(p, 68, 24_380 * Y, "货款（验收合格后一次性支付）")
    await m.pdf(
        p,
        68,
        DocumentKind.INVOICE,
        "货款发票",
        [f"开票单位：{p.supplier_name}", "金额：人民币24,380.00元"],
        public=False,
    )
    await m.move(p, S.CLOSED, 70)
    return p


async def _calligraphy(m: _Money, proposal: Proposal) -> Procurement:
    """Planned: the class starts once the activity room is free."""
    p = await m.convert(proposal, "calligraphy", "北山社区老年书法班教学服务", 6, 325, 505)
    await m.milestone(
        p,
        290,
        "确定授课老师及课程安排",
        315,
        "社区活动室改造完成后开课，已有2位书法老师有意向。",
    )
    return p


async def _meals(m: _Money, proposal: Proposal) -> Procurement:
    """In progress: a year of meals, paid month by month for the meals delivered."""
    p = await m.convert(proposal, "meals", "全街道独居老人助餐配送服务", 3, 30, 358)
    await m.move(p, S.TENDERING, 7)
    await m.contract(p, 27, 176_400 * Y)
    start = await m.milestone(p, 28, "送餐名单核对及服务启动", 30)
    quarters = [
        await m.milestone(p, 28, f"第{name}季度服务评估", 30 + 90 * q)
        for q, name in enumerate("一二三", start=1)
    ]
    await m.milestone(p, 28, "服务期满验收", 358)
    await m.move(p, S.IN_PROGRESS, 30)
    await m.done(p, start, 30, "首批送餐老人412位，由各社区网格员逐户核对。")
    findings = [
        "抽查满意度96%。",
        "抽查满意度94%，已按老人意见调整为少油少盐菜单。",
        "抽查满意度95%。",
    ]
    for month in range(1, 10):
        n = 36 + 30 * month  # paid a few days after each month of service
        if month % 3 == 0:  # each quarter assessed before its last month is paid
            q = month // 3 - 1
            await m.done(p, quarters[q], n - 3, findings[q])
            await m.pdf(
                p,
                n - 3,
                DocumentKind.OTHER,
                f"第{'一二三'[q]}季度服务评估报告",
                [
                    f"服务单位：{p.supplier_name}",
                    "评估方式：电话回访及入户抽查（每个社区10户）",
                    f"评估结论：服务按合同执行，{findings[q]}",
                ],
                public=True,
            )
        amount = m.rng.randrange(1_420, 1_511) * 10 * Y
        await m.pay(p, n, amount, f"第{month}个月送餐服务费（按实际送餐份数结算）")
    return p


STORIES = {
    "老旧楼栋加装楼梯扶手": _handrails,
    "菜市场至公交站路灯改造": _market_lights,
    "垃圾分类亭建设": _kiosks,
    "南湖公园儿童游乐设施更新": _playground,
    "防汛应急物资储备": _flood_supplies,
    "日间照料中心康复器材采购": _rehab_equipment,
    "楼道声控灯更换": _stair_lights,
    "社区图书角图书采购": _books,
    "老年大学书法班服务": _calligraphy,
    "独居老人助餐配送服务": _meals,
}


async def _rate(m: _Money, delivered: list[Procurement]) -> None:
    """Residents of each delivered project's area rate it, in the weeks after delivery.

    Written as rows in one insert rather than through `budget.services.ratings.rate`: each
    is dated on its day after the delivery (the service stamps now), and 85 one-by-one
    transactions would slow `make run` down. The demo's "resident" and "voter" accounts do
    not rate, so that they can try."""
    rows = []
    now = datetime.now(UTC) - timedelta(minutes=1)
    for p in delivered:
        count, weights, comments = RATINGS[p.demo_key]
        fresh = await Procurement.get(id=p.id)
        pool = list(
            await User.filter(
                role=Role.RESIDENT, verified=True, is_active=True, area_id=fresh.area_id
            )
            .exclude(username__in=["resident", "voter"])
            .order_by("id")
            .values_list("id", flat=True)
        )
        for user_id in m.rng.sample(pool, min(count, len(pool))):
            score = m.rng.choices(range(1, 6), weights)[0]
            said = comments.get(score, [])
            comment = m.rng.choice(said) if said and m.rng.random() < 0.45 else ""
            when = datetime.combine(
                fresh.delivered_on + timedelta(days=m.rng.randrange(1, 30)),
                time(m.rng.randrange(8, 22), m.rng.randrange(60)),
                tzinfo=LOCAL,
            ).astimezone(UTC)
            rows.append((p.id, user_id, score, comment, min(when, now)))
    await Rating.bulk_create(
        [
            Rating(procurement_id=p, user_id=u, score=s, comment=c, created_at=w)
            for p, u, s, c, w in rows
        ],
        batch_size=500,
    )
    # updated_at is always stamped with the time of the insert: align it afterwards
    await Rating.filter(procurement_id__in=[p.id for p in delivered]).update(
        updated_at=F("created_at")
    )


async def load_demo_money(round_id: int, upload_dir: Path) -> None:
    """Follow the money of the finished round (implementing, results published): every funded
    proposal becomes a procurement at its stage. Notes the services write themselves are in
    Chinese, as an officer using the app in Chinese would leave them."""
    load_translations()
    with switch_locale(DEFAULT_LOCALE):
        m = _Money(await Round.get(id=round_id), upload_dir, random.Random(SEED))
        await m.load()
        rated = []
        for title, proposal in m.funded.items():
            story = STORIES.get(title)
            if story is None:  # a funded proposal no story tells (should the demo change)
                await m.convert(proposal, "other", title, 3, 30, 300)
                continue
            p = await story(m, proposal)
            if p.demo_key in RATINGS:
                rated.append(p)
        await m.flush()
        await _rate(m, rated)
