"""Fill the money of ten finished rounds into a district that `tests/bench/fill.py` filled, fast
and the same way (rows generated in Python, written with sqlite3 `executemany` in one
transaction or asyncpg `COPY`, every column of each table: `fill.table_rows`).

What it adds (`MoneySizes`, district scale by default): finance officers; ten finished rounds,
one a year (the older ones closed, the latest three still implementing; results published),
each with an envelope per area and a district-wide one, funded and unfunded proposals; 2,000
procurements across them at every status, 500 of them in the latest round (the one whose OCDS
export is timed); 100,000 ledger entries; the procurements' events, milestones, cap changes,
residents' ratings, and the audit entries the services write along.

The money is what the services would have left: every entry is checked with the pure rules
(`budget.rules.ledger.apply_entry`) as it is generated, so each procurement's committed_fen
and paid_fen are the sums of its entries and paid ≤ committed ≤ cap held after every entry;
the caps of an envelope stay within its budget and those of a round within its fund.
`invariant_breaks()` checks all of that in the database (the benchmark runs it after sixteen
officers have committed money at once).

Not filled: documents (they need files), and the old rounds' ballots and outcomes.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tortoise.models import Model

from budget.models import (
    CapChange,
    EntryKind,
    Envelope,
    LedgerEntry,
    Milestone,
    Procurement,
    ProcurementEvent,
    ProcurementStatus,
    Proposal,
    Rating,
    Round,
)
from budget.rules.ledger import Refusal, Totals, apply_entry
from core.db import is_postgres
from core.models import AuditEntry, User
from core.services.auth import hash_password
from tests.bench.fill import PLACES, THINGS, pg_connect, table_rows, write_postgres, write_sqlite

S = ProcurementStatus

# The tables written, each after those it refers to.
MODELS: list[type[Model]] = [
    User,
    Round,
    Envelope,
    Proposal,
    Procurement,
    ProcurementEvent,
    LedgerEntry,
    Milestone,
    CapChange,
    Rating,
    AuditEntry,
]

KIND_OF = {"engineering": "works", "equipment": "goods", "service": "services"}
FORWARD = [S.PLANNED, S.TENDERING, S.CONTRACTED, S.IN_PROGRESS, S.DELIVERED, S.CLOSED]
OPEN_FOR_MONEY = (S.CONTRACTED, S.IN_PROGRESS, S.DELIVERED)
IMPLEMENTING_ROUNDS = 3  # the latest three rounds are still implementing, the older ones closed

# How many of a round's procurements are at each status, by the round's age in years (0: the
# latest round). A closed round has only finished procurements.
MIX = {
    0: {"planned": 8, "tendering": 10, "contracted": 17, "in_progress": 30, "delivered": 15}
    | {"closed": 15, "cancelled": 5},
    1: {"contracted": 5, "in_progress": 20, "delivered": 25, "closed": 45, "cancelled": 5},
    2: {"in_progress": 4, "delivered": 10, "closed": 80, "cancelled": 6},
}
MIX_CLOSED = {"closed": 93, "cancelled": 7}
# days from one step to the next (scaled down where today comes first)
GAPS = {
    S.TENDERING: (3, 25),
    S.CONTRACTED: (10, 45),
    S.IN_PROGRESS: (3, 20),
    S.DELIVERED: (30, 200),
    S.CLOSED: (10, 60),
    S.CANCELLED: (5, 60),
}
# how many ledger entries a procurement gets beside its contract and final release, relatively
ENTRY_WEIGHT = {S.CONTRACTED: 0.3, S.IN_PROGRESS: 1.0, S.DELIVERED: 1.3, S.CLOSED: 1.3}
# the share of what is committed that is paid before the end, by status
PAID_SHARE = {
    S.CONTRACTED: (0.0, 0.3),
    S.IN_PROGRESS: (0.3, 0.8),
    S.DELIVERED: (0.8, 0.97),
    S.CLOSED: (0.85, 0.98),
    S.CANCELLED: (0.0, 0.5),
}
MILESTONES = {
    "works": ["开工", "主体完工", "竣工验收", "交付使用"],
    "goods": ["签订合同", "到货", "安装调试", "验收"],
    "services": ["服务启动", "中期评估", "服务完成"],
}
SUPPLIERS = ["宏达", "恒信", "华安", "金盛", "利民", "万通", "兴业", "正和", "鼎鑫", "诚达"]
SUPPLIER_KINDS = {"works": "建设工程", "goods": "设备", "services": "社会工作服务"}
OFFICERS = ["王芳", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周丽", "吴斌", "徐婷"]
COMMENTS = [
    "质量不错，居民很满意。",
    "施工期间噪音有点大，但结果很好。",
    "希望以后能多做这样的项目。",
    "进度比计划慢了一些。",
    "设施已经在用了，方便了老人。",
    "",
]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
TEN_THOUSAND_YUAN = 10_000_00


@dataclass
class MoneySizes:
    rounds: int = 10
    procurements: int = 2_000
    big_round: int = 500  # of `procurements`, in the latest round
    entries: int = 100_000  # ledger entries (exactly, unless the procurements need more)
    officers: int = 16
    ratings_per: int = 8  # on average, per delivered or closed procurement
    unfunded_share: float = 0.5  # unfunded proposals per funded one


@dataclass
class Base:
    """What the money is built on, read from the filled district (`read_base`)."""

    next_id: dict[str, int]  # table → first free id
    area_ids: list[int]
    residents: dict[int, list[int]]  # area → its verified residents
    council_id: int


@dataclass
class Money:
    """What the benchmark needs to know about the filled money."""

    round_ids: list[int]  # the finished rounds, oldest first
    big_round_id: int  # the latest round
    big_round_procurements: int  # how many procurements it has
    officer_ids: list[int]  # finance officers
    envelope_id: int  # the latest round's envelope with the most procurements open for money
    open_procurements: dict[int, int]  # of that envelope: procurement id → room (cap − committed)
    counts: dict[str, int] = field(default_factory=dict)


def _quota(n: int, mix: dict[str, int], rng: random.Random) -> list[S]:
    """n statuses in the proportions of `mix` (largest remainders; every status of the mix at
    least once when n allows), shuffled."""
    total = sum(mix.values())
    exact = {s: n * w / total for s, w in mix.items()}
    counts = {s: math.floor(x) for s, x in exact.items()}
    if n >= len(mix):
        for s in counts:
            counts[s] = max(counts[s], 1)
    by_remainder = sorted(mix, key=lambda s: exact[s] - math.floor(exact[s]), reverse=True)
    i = 0
    while sum(counts.values()) < n:
        counts[by_remainder[i % len(mix)]] += 1
        i += 1
    while sum(counts.values()) > n:  # the minimum of one each overshot: take from the largest
        counts[max(counts, key=counts.get)] -= 1
    out = [S(s) for s, c in counts.items() for _ in range(c)]
    rng.shuffle(out)
    return out


def _at(day: date, hour: int = 10, seconds: int = 0) -> datetime:
    return datetime.combine(day, time(hour), UTC) + timedelta(seconds=seconds)


def _path(status: S, rng: random.Random) -> list[S]:
    """The states a procurement went through to reach `status` (a cancelled one stopped
    somewhere before delivery: half of them after the contract, with money moved)."""
    if status != S.CANCELLED:
        return FORWARD[: FORWARD.index(status) + 1]
    last = rng.choice([S.PLANNED, S.TENDERING, S.CONTRACTED, S.IN_PROGRESS])
    return [*FORWARD[: FORWARD.index(last) + 1], S.CANCELLED]


def _timeline(path: list[S], start: date, bound: date, rng: random.Random) -> list[date]:
    """A date per state of `path` from `start`, the last no later than `bound`."""
    days = [0]
    for state in path[1:]:
        days.append(days[-1] + rng.randint(*GAPS[state]))
    span = (bound - start).days
    if days[-1] > span:
        days = [d * span // days[-1] for d in days]
    return [start + timedelta(days=d) for d in days]


class _Ledger:
    """One procurement's entries, each checked with the rules as it is appended."""

    def __init__(self, cap_fen: int, rng: random.Random):
        self.totals = Totals(cap_fen)
        self.rng = rng
        self.entries: list[dict[str, Any]] = []
        self.reversed: set[int] = set()  # positions in `entries`

    def add(
        self,
        kind: EntryKind,
        amount: int,
        reverses: int | None = None,
        automatic: bool = False,
        **more,
    ) -> bool:
        """Append one entry if the rules accept it (False, and nothing appended, if not)."""
        target = self.entries[reverses] if reverses is not None else None
        try:
            self.totals = apply_entry(
                self.totals,
                kind,
                amount,
                status=S.IN_PROGRESS,
                reversed_kind=target["kind"] if target else None,
                reversed_amount_fen=target["amount_fen"] if target else None,
                already_reversed=reverses in self.reversed,
                automatic=automatic,
            )
        except Refusal:
            return False
        more["automatic"] = automatic
        if reverses is not None:
            self.reversed.add(reverses)
        self.entries.append(
            {"kind": kind.value, "amount_fen": amount, "reverses": reverses, **more}
        )
        return True

    def pay(self, goal: int, left: int, **more) -> bool:
        t = self.totals
        want = (goal - t.paid_fen) / max(1, left) * self.rng.uniform(0.6, 1.4)
        amount = max(int(want), 100_00, t.committed_fen // 2000)
        if amount >= 100:
            amount -= amount % 100  # whole yuan
        amount = min(amount, t.unspent_fen - 1)  # something stays for the final release
        return amount > 0 and self.add(EntryKind.PAY, amount, **more)

    def commit(self, **more) -> bool:
        t = self.totals
        amount = min(t.uncommitted_fen, int(t.cap_fen * self.rng.uniform(0.01, 0.05)))
        return amount > 0 and self.add(EntryKind.COMMIT, amount, **more)

    def release(self, **more) -> bool:
        amount = int((self.totals.unspent_fen - 1) * self.rng.uniform(0.05, 0.2))
        return amount > 0 and self.add(EntryKind.RELEASE, amount, **more)

    def reverse(self, only_pays: bool = False, **more) -> bool:
        """Reverse one of the latest entries not reversed yet (the contract's commitment
        and the releases excepted), keeping something unspent."""
        candidates = [
            i
            for i in range(len(self.entries) - 1, 0, -1)
            if i not in self.reversed
            and (
                self.entries[i]["kind"] == EntryKind.PAY
                or (not only_pays and self.entries[i]["kind"] == EntryKind.COMMIT)
            )
        ][:5]
        if not candidates:
            return False
        i = self.rng.choice(candidates)
        entry = self.entries[i]
        if entry["kind"] == EntryKind.COMMIT and self.totals.unspent_fen - entry["amount_fen"] < 1:
            return False
        return self.add(EntryKind.REVERSAL, entry["amount_fen"], reverses=i, **more)


NOTES = {
    EntryKind.PAY: "进度款",
    EntryKind.COMMIT: "追加工程量",
    EntryKind.RELEASE: "退回部分未用承诺资金",
    EntryKind.REVERSAL: "录入错误，冲销",
}
KIND_OF_STEP = {
    "pay": EntryKind.PAY,
    "commit": EntryKind.COMMIT,
    "release": EntryKind.RELEASE,
    "reverse": EntryKind.REVERSAL,
}


def _money_of(
    ledger: _Ledger,
    k: int,
    paid_share: float,
    days: list[date],
    officer: int,
    officers: list[int],
    contract_ref: str,
) -> None:
    """`k` entries after the contract's commitment, on `days` (sorted, one each): mostly
    payments, some further commitments, releases and reversals of a mistake."""
    rng = ledger.rng
    for step, day in enumerate(days):
        who = officer if rng.random() < 0.85 else rng.choice(officers)
        r = rng.random()
        goal = int(ledger.totals.committed_fen * paid_share)
        left = max(1, int((k - step) * 0.83))  # payments still to come, about
        steps: list[tuple[str, dict[str, Any]]] = []
        if r < 0.06:
            steps.append(("reverse", {}))
        elif r < 0.14:
            steps.append(("commit", {}))
        elif r < 0.17:
            steps.append(("release", {}))
        # what is tried when the first choice does not fit: one of them always does
        steps += [("pay", {"goal": goal, "left": left}), ("reverse", {"only_pays": True})]
        steps.append(("commit", {}))
        for name, args in steps:
            kind = KIND_OF_STEP[name]
            ref = {
                EntryKind.PAY: f"FP{rng.randrange(10**8):08d}",
                EntryKind.COMMIT: f"{contract_ref}-BG{len(ledger.entries)}",
            }.get(kind, "")
            more = {"entry_date": day, "officer_id": who, "document_ref": ref, "note": NOTES[kind]}
            if getattr(ledger, name)(**args, **more):
                break
        else:
            raise AssertionError("no ledger entry fits: the generator's fallbacks are wrong")


def generate_money(
    base: Base, sizes: MoneySizes, today: date, seed: int = 2027
) -> tuple[dict[str, tuple[list[str], list]], Money]:
    """Every row, per table ({table: (columns, rows)}, as `fill.generate`), and what the
    benchmark needs to know. `today`: the district's date (entries are dated before it)."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    ids = dict(base.next_id)

    def next_id(model: type[Model]) -> int:
        table = model._meta.db_table
        ids[table] += 1
        return ids[table] - 1

    rows: dict[type[Model], list[dict[str, Any]]] = {model: [] for model in MODELS}
    audit = rows[AuditEntry]

    def log(actor, action: str, subject: str, sid: int, when: datetime, **detail) -> None:
        detail = {k: v for k, v in detail.items() if v is not None}
        audit.append(
            {
                "actor_id": actor,
                "action": action,
                "subject_type": subject,
                "subject_id": sid,
                "public": True,
                "detail": json.dumps(detail),
                "created_at": when,
            }
        )

    # the finance officers
    pw = hash_password("bench-password")
    officers = []
    for i in range(sizes.officers):
        uid = next_id(User)
        officers.append(uid)
        rows[User].append(
            {
                "id": uid,
                "username": f"bench-finance-{i + 1:02d}",
                "display_name": f"{OFFICERS[i % len(OFFICERS)]}{'' if i < 10 else i + 1}",
                "password_hash": pw,
                "role": "finance",
                "area_id": None,
                "verified": True,
                "created_at": now - timedelta(days=4000),
            }
        )
    all_residents = [uid for area in base.area_ids for uid in base.residents.get(area, [])]

    # procurements per round: the latest has `big_round`, the others share the rest
    rest = sizes.procurements - sizes.big_round
    older = sizes.rounds - 1
    per_round = [rest // older + (1 if i < rest % older else 0) for i in range(older)]
    per_round.append(sizes.big_round)

    procurements: list[dict[str, Any]] = []  # with generation-only keys removed before writing
    plans: list[dict[str, Any]] = []  # per procurement: its path, dates and what it needs
    round_ids, envelopes_of = [], {}

    def proposal(rid, pid, area, category, title, place, cost, status) -> dict[str, Any]:
        created = _at(round_row["proposing_starts"], 9, rng.randrange(30 * 86400))
        return {
            "id": pid,
            "round_id": rid,
            "area_id": area,
            "title": title,
            "description": f"建议在{place}实施该项目，惠及周边居民。",
            "category": category,
            "cost_fen": cost,
            "revised_cost_fen": None,
            "beneficiaries": rng.randrange(50, 5000),
            "location": place,
            "author_id": rng.choice(base.residents.get(area) or all_residents),
            "status": status,
            "merged_into_id": None,
            "review_reason": "经现场勘查，项目可行，费用测算合理。",
            "support_count": rng.randrange(0, 60),
            "vote_count": rng.randrange(0, 200),
            "external_id": "",
            "created_at": created,
            "updated_at": round_row["results_published_at"],
        }

    for r, n in enumerate(per_round):
        age = sizes.rounds - 1 - r
        implementing = today - timedelta(days=150 + 365 * age)
        closes = implementing + timedelta(days=380)
        published = _at(implementing - timedelta(days=20))
        rid = next_id(Round)
        round_ids.append(rid)
        phase = "implementing" if age < IMPLEMENTING_ROUNDS else "closed"
        round_row = {
            "id": rid,
            "title": f"{implementing.year}年度社区微实事项目",
            "description": "已完成的轮次（压力测试）。",
            "fund_fen": 0,  # set below: the sum of the envelopes
            "phase": phase,
            "ballot_type": "budget_approval",
            "rule": "greedy",
            "proposing_starts": implementing - timedelta(days=105),
            "reviewing_starts": implementing - timedelta(days=75),
            "voting_starts": implementing - timedelta(days=45),
            "results_starts": implementing - timedelta(days=25),
            "implementing_starts": implementing,
            "closes": closes,
            "results_published_at": published,
            "created_by_id": base.council_id,
            "created_at": _at(implementing - timedelta(days=120)),
            "updated_at": min(now, _at(closes)) if phase == "closed" else published,
        }
        rows[Round].append(round_row)
        envelope_ids = {}
        for area in [*base.area_ids, None]:
            envelope_ids[area] = next_id(Envelope)
        envelopes_of[rid] = envelope_ids
        caps: Counter = Counter()

        statuses = _quota(n, MIX[age] if phase == "implementing" else MIX_CLOSED, rng)
        bound = today - timedelta(days=1)
        if phase == "closed":  # everything finished before the round closed
            bound = min(bound, closes - timedelta(days=1))
        for status in statuses:
            area = rng.choice(base.area_ids) if rng.random() < 0.9 else None
            category, thing = rng.choice(THINGS)
            place = rng.choice(PLACES)
            pid = next_id(Proposal)
            cost = rng.randrange(200, 3001) * 100_00
            revised = cost - rng.randrange(1, 20) * 1_000_00 if rng.random() < 0.1 else None
            approved = revised or cost
            raise_fen = 0
            if rng.random() < 0.02 or not procurements:  # the first one, at least
                raise_fen = rng.randrange(1, 11) * 1_000_00
            cap = approved + raise_fen
            caps[area] += cap
            title = f"{place}{thing}（{implementing.year}-{pid}）"
            rows[Proposal].append(
                proposal(rid, pid, area, category, title, place, cost, "funded")
                | {"revised_cost_fen": revised, "vote_count": rng.randrange(200, 3000)}
            )
            kind = KIND_OF[category]
            officer = rng.choice(officers)
            converted = published.date() + timedelta(days=rng.randint(1, 20))
            path = _path(status, rng)
            days = _timeline(path, converted, bound, rng)
            planned_start = implementing + timedelta(days=rng.randint(0, 45))
            supplier = f"{rng.choice(SUPPLIERS)}{SUPPLIER_KINDS[kind]}有限公司"
            proc = {
                "id": next_id(Procurement),
                "round_id": rid,
                "envelope_id": envelope_ids[area],
                "proposal_id": pid,
                "area_id": area,
                "kind": kind,
                "title": title,
                "officer_id": officer,
                "planned_start": planned_start,
                "planned_end": planned_start + timedelta(days=rng.randint(60, 240)),
                "cap_fen": cap,
                "committed_fen": 0,
                "paid_fen": 0,
                "status": status.value,
                "cancel_reason": "",
                "supplier_name": "",
                "supplier_code": "",
                "contract_ref": "",
                "contract_date": None,
                "contract_amount_fen": None,
                "delivered_on": None,
                "finished_at": None,
                "created_by_id": officer,
                "created_at": _at(converted, 9, rng.randrange(6600)),
                "updated_at": _at(days[-1], 11),
            }
            if S.CONTRACTED in path:
                at = days[path.index(S.CONTRACTED)]
                proc |= {
                    "supplier_name": supplier,
                    "supplier_code": "91" + "".join(rng.choices(USCC_ALPHABET, k=16)),
                    "contract_ref": f"HT-{at.year}-{proc['id']:05d}",
                    "contract_date": at,
                    "contract_amount_fen": int(cap * rng.uniform(0.6, 0.95)),
                }
            if S.DELIVERED in path:
                proc["delivered_on"] = days[path.index(S.DELIVERED)]
            if status.finished:
                proc["finished_at"] = _at(days[-1], 16)
            if status == S.CANCELLED:
                proc["cancel_reason"] = "供应商无法履约，经研究决定取消。"
            procurements.append(proc)
            plans.append(
                {
                    "path": path,
                    "days": days,
                    "approved": approved,
                    "raise": raise_fen,
                    "end": days[-1] if status.finished else bound,
                }
            )
        budgets = {}
        for area, envelope_id in envelope_ids.items():
            budget = math.ceil(caps[area] * rng.uniform(1.0, 1.08) / TEN_THOUSAND_YUAN)
            budgets[area] = max(budget, 50) * TEN_THOUSAND_YUAN
            rows[Envelope].append(
                {"id": envelope_id, "round_id": rid, "area_id": area, "budget_fen": budgets[area]}
            )
        round_row["fund_fen"] = sum(budgets.values())
        # the proposals that were not funded
        for _ in range(int(n * sizes.unfunded_share)):
            area = rng.choice(base.area_ids) if rng.random() < 0.9 else None
            category, thing = rng.choice(THINGS)
            place = rng.choice(PLACES)
            pid = next_id(Proposal)
            title = f"{place}{thing}（{implementing.year}-{pid}）"
            cost = rng.randrange(200, 3001) * 100_00
            rows[Proposal].append(
                proposal(rid, pid, area, category, title, place, cost, "not_funded")
            )

    # how many entries each procurement with money gets beside the contract and the release
    with_money = [
        i
        for i, p in enumerate(procurements)
        if S.CONTRACTED in plans[i]["path"] and plans[i]["end"] >= p["contract_date"]
    ]
    fixed = sum(2 if S(procurements[i]["status"]).finished else 1 for i in with_money)
    middle = max(0, sizes.entries - fixed)
    weights = {
        i: ENTRY_WEIGHT.get(S(procurements[i]["status"]), 0.5) * rng.uniform(0.5, 1.5)
        for i in with_money
    }
    total_weight = sum(weights.values()) or 1
    extra = {i: int(middle * w / total_weight) for i, w in weights.items()}
    for i in with_money[: middle - sum(extra.values())]:
        extra[i] += 1

    entries: list[dict[str, Any]] = []  # every procurement's, then sorted by time for the ids
    for i in with_money:
        p, plan = procurements[i], plans[i]
        ledger = _Ledger(p["cap_fen"], rng)
        start, end = p["contract_date"], plan["end"]
        ledger.add(
            EntryKind.COMMIT,
            p["contract_amount_fen"],
            entry_date=start,
            officer_id=p["officer_id"],
            document_ref=p["contract_ref"],
            note=f"与{p['supplier_name']}签订合同",
        )
        k = extra[i]
        days = sorted(start + timedelta(days=rng.randint(0, (end - start).days)) for _ in range(k))
        status = S(p["status"])
        _money_of(
            ledger,
            k,
            rng.uniform(*PAID_SHARE[status]),
            days,
            p["officer_id"],
            officers,
            p["contract_ref"],
        )
        if status.finished:
            unspent = ledger.totals.unspent_fen
            note = (
                "项目结束，退回未支付的承诺资金" if status == S.CLOSED else "项目取消，退回承诺资金"
            )
            assert ledger.add(
                EntryKind.RELEASE,
                unspent,
                automatic=True,
                entry_date=end,
                officer_id=p["officer_id"],
                document_ref="",
                note=note,
            ), "the final release must fit"
        p["committed_fen"] = ledger.totals.committed_fen
        p["paid_fen"] = ledger.totals.paid_fen
        for seq, entry in enumerate(ledger.entries):
            entry["procurement_id"] = p["id"]
            entry["created_at"] = _at(entry["entry_date"], 9, seq * 7)
            entry["_local"] = entry["reverses"]
        base_index = len(entries)
        for entry in ledger.entries:
            entry["_owner"] = base_index
        entries.extend(ledger.entries)

    # ids in the order the entries were made; a reversal points at an earlier id
    order = sorted(range(len(entries)), key=lambda j: entries[j]["created_at"])
    new_id = {}
    for j in order:
        new_id[j] = next_id(LedgerEntry)
    ledger_rows = []
    for j in order:
        e = entries[j]
        reverses = new_id[e["_owner"] + e["_local"]] if e["_local"] is not None else None
        ledger_rows.append(
            {
                "id": new_id[j],
                "procurement_id": e["procurement_id"],
                "kind": e["kind"],
                "amount_fen": e["amount_fen"],
                "entry_date": e["entry_date"],
                "officer_id": e["officer_id"],
                "document_ref": e["document_ref"],
                "note": e["note"],
                "reverses_id": reverses,
                "created_at": e["created_at"],
            }
        )
        detail = {
            "amount_fen": e["amount_fen"],
            "entry": new_id[j],
            "reverses": reverses,
            "document_ref": e["document_ref"] or None,
            "automatic": e["automatic"] or None,
        }
        log(
            e["officer_id"],
            f"ledger.{e['kind']}",
            "procurement",
            e["procurement_id"],
            e["created_at"],
            **detail,
        )
    rows[LedgerEntry] = ledger_rows

    # events, milestones, cap changes and ratings
    score_weights = [5, 7, 15, 38, 35]
    requested = False  # a raise waiting for the council, or refused
    for p, plan in zip(procurements, plans, strict=True):
        path, days = plan["path"], plan["days"]
        officer = p["officer_id"]
        log(
            officer,
            "procurement.converted",
            "procurement",
            p["id"],
            p["created_at"],
            proposal=p["proposal_id"],
            cap_fen=plan["approved"],
            kind=p["kind"],
        )
        for step, (state, day) in enumerate(zip(path, days, strict=True)):
            when = p["created_at"] if step == 0 else _at(day, 11, step)
            note = p["cancel_reason"] if state == S.CANCELLED else ""
            rows[ProcurementEvent].append(
                {
                    "id": next_id(ProcurementEvent),
                    "procurement_id": p["id"],
                    "from_status": path[step - 1].value if step else "",
                    "to_status": state.value,
                    "actor_id": officer,
                    "note": note,
                    "created_at": when,
                }
            )
            if step:
                log(
                    officer,
                    "procurement.moved",
                    "procurement",
                    p["id"],
                    when,
                    from_status=path[step - 1].value,
                    to_status=state.value,
                    reason=note or None,
                )
        if S.CONTRACTED in path:
            titles = MILESTONES[p["kind"]]
            reached = {
                S.CONTRACTED: 0,
                S.IN_PROGRESS: len(titles) // 2,
                S.DELIVERED: len(titles),
                S.CLOSED: len(titles),
            }.get(path[-2] if path[-1] == S.CANCELLED else path[-1], 0)
            span = max(1, (p["planned_end"] - p["planned_start"]).days)
            for m, title in enumerate(titles):
                planned = p["planned_start"] + timedelta(days=span * (m + 1) // len(titles))
                done = None
                if m < reached:
                    done = min(plan["end"], p["contract_date"] + timedelta(days=10 * (m + 1)))
                rows[Milestone].append(
                    {
                        "id": next_id(Milestone),
                        "procurement_id": p["id"],
                        "title": title,
                        "planned_date": planned,
                        "done_date": done,
                        "note": "",
                        "created_at": _at(p["contract_date"], 12, m),
                    }
                )
        if plan["raise"]:
            when = _at(days[-1], 14)
            rows[CapChange].append(
                {
                    "id": next_id(CapChange),
                    "procurement_id": p["id"],
                    "old_cap_fen": plan["approved"],
                    "new_cap_fen": p["cap_fen"],
                    "reason": "现场情况变化，需追加工程量。",
                    "status": "approved",
                    "requested_by_id": officer,
                    "decided_by_id": base.council_id,
                    "decision_note": "同意。",
                    "decided_at": when,
                    "created_at": when - timedelta(hours=3),
                }
            )
            log(
                officer,
                "procurement.cap_raise_requested",
                "procurement",
                p["id"],
                when - timedelta(hours=3),
                old_cap_fen=plan["approved"],
                new_cap_fen=p["cap_fen"],
            )
            log(
                base.council_id,
                "procurement.cap_raise_approved",
                "procurement",
                p["id"],
                when,
                old_cap_fen=plan["approved"],
                new_cap_fen=p["cap_fen"],
            )
        elif (rng.random() < 0.03 or not requested) and not S(p["status"]).finished:
            pending = rng.random() < 0.5 or not requested  # the first one, at least
            requested = True
            when = _at(plan["end"], 14)
            new_cap = p["cap_fen"] + rng.randrange(1, 11) * 1_000_00
            rows[CapChange].append(
                {
                    "id": next_id(CapChange),
                    "procurement_id": p["id"],
                    "old_cap_fen": p["cap_fen"],
                    "new_cap_fen": new_cap,
                    "reason": "材料价格上涨。",
                    "status": "pending" if pending else "refused",
                    "requested_by_id": officer,
                    "decided_by_id": None if pending else base.council_id,
                    "decision_note": "" if pending else "请在原预算内调整方案。",
                    "decided_at": None if pending else when,
                    "created_at": when - timedelta(hours=3),
                }
            )
        if p["delivered_on"] and p["status"] in (S.DELIVERED, S.CLOSED):
            pool = base.residents.get(p["area_id"]) or all_residents
            n = min(len(pool), rng.randint(0, 2 * sizes.ratings_per))
            for uid in rng.sample(pool, n):
                when = min(now, _at(p["delivered_on"] + timedelta(days=rng.randint(1, 30)), 20))
                rows[Rating].append(
                    {
                        "id": next_id(Rating),
                        "procurement_id": p["id"],
                        "user_id": uid,
                        "score": rng.choices(range(1, 6), score_weights)[0],
                        "comment": rng.choice(COMMENTS) if rng.random() < 0.3 else "",
                        "hidden_reason": "含有个人信息。" if rng.random() < 0.01 else "",
                        "created_at": when,
                        "updated_at": when,
                    }
                )
    rows[Procurement] = procurements

    audit.sort(key=lambda row: row["created_at"])
    for row in audit:
        row["id"] = next_id(AuditEntry)
    tables = {model._meta.db_table: table_rows(model, rows[model], now) for model in MODELS}

    # the envelope the officers commit on: the latest round's with the most open procurements
    latest = round_ids[-1]
    open_by_envelope: dict[int, dict[int, int]] = defaultdict(dict)
    for p in procurements:
        if p["round_id"] == latest and p["status"] in OPEN_FOR_MONEY:
            open_by_envelope[p["envelope_id"]][p["id"]] = p["cap_fen"] - p["committed_fen"]
    envelope_id = max(open_by_envelope, key=lambda e: len(open_by_envelope[e]))
    money = Money(
        round_ids=round_ids,
        big_round_id=latest,
        big_round_procurements=sizes.big_round,
        officer_ids=officers,
        envelope_id=envelope_id,
        open_procurements=open_by_envelope[envelope_id],
        counts={name: len(values) for name, (_cols, values) in tables.items()},
    )
    return tables, money


# --- reading the district, writing ------------------------------------------------------------


async def _select(url: str, queries: list[str]) -> list[list[tuple]]:
    if is_postgres(url):
        conn = await pg_connect(url)
        try:
            return [[tuple(row) for row in await conn.fetch(q)] for q in queries]
        finally:
            await conn.close()
    conn = sqlite3.connect(url.removeprefix("sqlite://"))
    try:
        return [conn.execute(q).fetchall() for q in queries]
    finally:
        conn.close()


async def read_base(url: str) -> Base:
    """The district's areas, verified residents, a council member and the next free ids."""
    tables = [model._meta.db_table for model in MODELS]
    users = User._meta.db_table
    found = await _select(
        url,
        [
            *(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"' for table in tables),
            'SELECT id FROM "area" ORDER BY id',
            f"SELECT id, area_id FROM \"{users}\" WHERE role = 'resident' AND verified "
            "AND is_active AND area_id IS NOT NULL ORDER BY id",
            f"SELECT id FROM \"{users}\" WHERE role IN ('council', 'admin') ORDER BY id LIMIT 1",
        ],
    )
    next_id = {table: int(found[i][0][0]) + 1 for i, table in enumerate(tables)}
    areas, residents, council = found[len(tables) :]
    by_area: dict[int, list[int]] = defaultdict(list)
    for uid, area in residents:
        by_area[area].append(uid)
    if not council:
        raise RuntimeError("the district has no council member: fill it first (fill_district)")
    return Base(next_id, [a for (a,) in areas], dict(by_area), council[0][0])


async def fill_money(
    url: str, sizes: MoneySizes | None = None, today: date | None = None, analyze: bool = True
) -> Money:
    """Generate and write the money into the district filled at `url`."""
    from core.i18n import local_today

    base = await read_base(url)
    tables, money = generate_money(base, sizes or MoneySizes(), today or local_today())
    if is_postgres(url):
        await write_postgres(url, tables, analyze)
    else:
        write_sqlite(url.removeprefix("sqlite://"), tables, analyze)
    return money


# --- the invariants -----------------------------------------------------------------------------

# per procurement, what its entries add up to (a reversal undoes the entry it points at)
LEDGER_SUMS = """
SELECT e.procurement_id AS pid,
  SUM(CASE WHEN e.kind = 'commit' THEN e.amount_fen
           WHEN e.kind = 'release' THEN -e.amount_fen
           WHEN r.kind = 'commit' THEN -e.amount_fen
           WHEN r.kind = 'release' THEN e.amount_fen
           ELSE 0 END) AS committed,
  SUM(CASE WHEN e.kind = 'pay' THEN e.amount_fen
           WHEN r.kind = 'pay' THEN -e.amount_fen
           ELSE 0 END) AS paid,
  SUM(CASE WHEN e.kind = 'reversal' AND (r.id IS NULL OR r.kind = 'reversal'
           OR r.procurement_id <> e.procurement_id OR r.amount_fen <> e.amount_fen)
           THEN 1 ELSE 0 END) AS bad_reversals
FROM ledger_entry e LEFT JOIN ledger_entry r ON r.id = e.reverses_id
GROUP BY e.procurement_id
"""
# what each envelope's and round's procurements hold: the cap while open, what was paid once
# finished (budget.models.Procurement.reserved_fen)
RESERVED = """
SELECT {key} AS id, MAX({limit}) AS limit_fen,
  SUM(CASE WHEN p.status IN ('closed', 'cancelled') THEN p.paid_fen ELSE p.cap_fen END) AS held
FROM procurement p JOIN {table} x ON x.id = p.{key}
GROUP BY {key}
"""


async def invariant_breaks(limit: int = 10) -> tuple[int, list[str]]:
    """Every broken money invariant in the database (Tortoise initialised): a procurement whose
    committed_fen or paid_fen is not the sum of its entries, where 0 ≤ paid ≤ committed ≤ cap
    fails, a reversal that does not undo one entry of the same procurement, an envelope or
    round whose procurements hold more than its budget or fund. (number, the first `limit`
    described)."""
    from tortoise import connections

    conn = connections.get("default")
    sums = {row["pid"]: row for row in await conn.execute_query_dict(LEDGER_SUMS)}
    procurements = await conn.execute_query_dict(
        "SELECT id, cap_fen, committed_fen, paid_fen FROM procurement"
    )
    breaks: list[str] = []
    for p in procurements:
        s = sums.get(p["id"], {"committed": 0, "paid": 0, "bad_reversals": 0})
        committed, paid = int(s["committed"] or 0), int(s["paid"] or 0)
        if (p["committed_fen"], p["paid_fen"]) != (committed, paid):
            breaks.append(
                f"procurement {p['id']}: committed/paid {p['committed_fen']}/{p['paid_fen']}, "
                f"its entries add up to {committed}/{paid}"
            )
        if not 0 <= p["paid_fen"] <= p["committed_fen"] <= p["cap_fen"]:
            breaks.append(
                f"procurement {p['id']}: paid {p['paid_fen']} ≤ committed {p['committed_fen']}"
                f" ≤ cap {p['cap_fen']} fails"
            )
        if int(s["bad_reversals"] or 0):
            breaks.append(f"procurement {p['id']}: {s['bad_reversals']} reversals undo nothing")
    for table, key, limit_column in (
        ("envelope", "envelope_id", "x.budget_fen"),
        ("round", "round_id", "x.fund_fen"),
    ):
        sql = RESERVED.format(table=f'"{table}"', key=key, limit=limit_column)
        for row in await conn.execute_query_dict(sql):
            if int(row["held"]) > int(row["limit_fen"]):
                breaks.append(
                    f"{table} {row['id']}: its procurements hold {row['held']}"
                    f" of {row['limit_fen']}"
                )
    return len(breaks), breaks[:limit]
