"""The demo district: the promised shape, consistent ballots, and accounts that sign in."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime

from budget.demo import DEMO_LOGINS, load_demo_data
from budget.demo_money import USCC_ALPHABET, make_uscc, pdf_document, png_picture, uscc_check
from budget.models import (
    Ballot,
    BallotChoice,
    CapChange,
    CapChangeStatus,
    Category,
    Channel,
    EntryKind,
    Envelope,
    LedgerEntry,
    Milestone,
    Outcome,
    Phase,
    Procurement,
    ProcurementDocument,
    ProcurementEvent,
    ProcurementStatus,
    Proposal,
    ProposalStatus,
    Rating,
    Review,
    Round,
)
from budget.permissions import can
from budget.rules.ballots import EnvelopeSpec, validate_ballot
from budget.services.procurement_files import sniff_document
from core.i18n import local_today
from core.models import Area, AuditEntry, Role, User
from tests.helpers import PASSWORD, login, page_text


async def test_demo_has_the_promised_shape(db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)

    assert await Area.all().count() == 4
    roles = Counter(await User.all().values_list("role", flat=True))
    assert set(roles) == set(Role)
    assert roles[Role.RESIDENT] >= 300
    assert await User.filter(role=Role.RESIDENT, verified=True).count() == roles[Role.RESIDENT]
    per_area = Counter(await User.filter(role=Role.RESIDENT).values_list("area_id", flat=True))
    assert len(per_area) == 4 and min(per_area.values()) >= 50

    voting = await Round.get(phase=Phase.VOTING)
    finished = await Round.get(results_published_at__not_isnull=True)
    assert await Round.all().count() == 2
    assert finished.phase == Phase.IMPLEMENTING  # counted, published, then moved on
    for rnd in (voting, finished):
        envelopes = await Envelope.filter(round_id=rnd.id)
        assert len(envelopes) == 5
        assert sum(e.budget_fen for e in envelopes) == rnd.fund_fen
        assert voting.voting_starts < voting.results_starts

    proposals = await Proposal.all()
    assert 35 <= len(proposals) <= 45
    assert {p.category for p in proposals} == set(Category)
    assert all(20_000_00 <= p.cost_fen <= 300_000_00 for p in proposals)
    done = Counter(p.status for p in proposals if p.round_id == finished.id)
    for status in (
        ProposalStatus.FUNDED,
        ProposalStatus.NOT_FUNDED,
        ProposalStatus.INFEASIBLE,
        ProposalStatus.MERGED,
        ProposalStatus.WITHDRAWN,
    ):
        assert done[status] >= 1, status
    assert ProposalStatus.FEASIBLE not in done  # every counted proposal has a verdict
    now = Counter(p.status for p in proposals if p.round_id == voting.id)
    assert now[ProposalStatus.FEASIBLE] >= 15 and now[ProposalStatus.INFEASIBLE] >= 1
    assert all(p.merged_into_id for p in proposals if p.status == ProposalStatus.MERGED)
    assert await Review.all().count() >= 30
    assert await Outcome.filter(round_id=finished.id).count() == 5
    assert any(p.support_count > 0 for p in proposals)

    # every proposal has a public history
    histories = Counter(
        await AuditEntry.filter(subject_type="proposal", public=True).values_list(
            "subject_id", flat=True
        )
    )
    assert all(histories[p.id] >= 1 for p in proposals)


async def test_demo_ballots_are_valid_and_mixed(db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)
    for rnd in await Round.all():
        ballots = await Ballot.filter(round_id=rnd.id).select_related("voter", "entered_by")
        assert len(ballots) >= 150
        channels = Counter(b.channel for b in ballots)
        assert channels[Channel.ONLINE] > channels[Channel.PAPER] > 0
        assert len({b.receipt for b in ballots}) == len(ballots)
        for b in ballots:
            assert b.area_id == b.voter.area_id
            if b.channel == Channel.PAPER:
                assert b.entered_by.role == Role.GRID_WORKER
                assert b.entered_by.area_id == b.area_id
        envelopes = {e.area_id: e.budget_fen for e in await Envelope.filter(round_id=rnd.id)}
        counted = await Proposal.filter(
            round_id=rnd.id,
            status__in=[ProposalStatus.FEASIBLE, ProposalStatus.FUNDED, ProposalStatus.NOT_FUNDED],
        )
        choices: dict[int, dict[int, int]] = {}
        for ballot_id, pid in await BallotChoice.filter(ballot__round_id=rnd.id).values_list(
            "ballot_id", "proposal_id"
        ):
            choices.setdefault(ballot_id, {})[pid] = 1
        for b in ballots:
            specs = [
                EnvelopeSpec(
                    str(area),
                    envelopes[area],
                    {p.id: p.effective_cost_fen for p in counted if p.area_id == area},
                )
                for area in (b.area_id, None)
            ]
            assert validate_ballot("budget_approval", specs, choices.get(b.id, {})).ok


async def test_demo_logins_sign_in(client, db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)
    usernames = [u for u, _role in DEMO_LOGINS]
    assert set(await User.filter(username__in=usernames).values_list("role", flat=True)) == set(
        Role
    )
    for username in usernames:
        client.cookies.clear()
        await login(client, username, PASSWORD)

    voting = await Round.get(phase=Phase.VOTING)
    resident = await User.get(username="resident")
    assert can(resident, "vote", voting)
    assert not await Ballot.exists(round_id=voting.id, voter_id=resident.id)
    assert await Ballot.exists(round_id=voting.id, voter_id=(await User.get(username="voter")).id)
    client.cookies.clear()
    await login(client, "resident", PASSWORD)
    response = await client.get(f"/budget/rounds/{voting.id}/ballot")
    assert response.status_code == 200

    funded = await Proposal.filter(status=ProposalStatus.FUNDED).first()
    response = await client.get(f"/budget/proposals/{funded.id}")
    assert response.status_code == 200
    assert funded.title in page_text(response.text)


S = ProcurementStatus


def ledger_totals(entries: list[LedgerEntry]) -> tuple[int, int]:
    """(committed, paid) recomputed from a procurement's entries alone."""
    by_id = {e.id: e for e in entries}
    committed = paid = 0
    for e in entries:
        kind, sign = e.kind, 1
        if kind == EntryKind.REVERSAL:
            kind, sign = by_id[e.reverses_id].kind, -1
        if kind == EntryKind.COMMIT:
            committed += sign * e.amount_fen
        elif kind == EntryKind.RELEASE:
            committed -= sign * e.amount_fen
        else:
            paid += sign * e.amount_fen
    return committed, paid


async def test_demo_follows_the_money_of_the_finished_round(db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)
    today, now = local_today(), datetime.now(UTC)
    rnd = await Round.get(results_published_at__not_isnull=True)
    assert rnd.phase == Phase.IMPLEMENTING
    procurements = await Procurement.filter(round_id=rnd.id)
    funded = await Proposal.filter(round_id=rnd.id, status=ProposalStatus.FUNDED)
    assert sorted(p.proposal_id for p in procurements) == sorted(p.id for p in funded)
    assert not await Procurement.exclude(round_id=rnd.id).exists()  # the 2026 round is voting
    by_status = Counter(p.status for p in procurements)
    assert set(by_status) == set(ProcurementStatus), by_status

    # the ledger's invariants, and totals that are the sums of the entries
    for p in procurements:
        assert 0 <= p.paid_fen <= p.committed_fen <= p.cap_fen, p.title
        entries = await LedgerEntry.filter(procurement_id=p.id)
        assert ledger_totals(entries) == (p.committed_fen, p.paid_fen), p.title
        assert all(rnd.implementing_starts <= e.entry_date <= today for e in entries)
        assert all(e.created_at <= now for e in entries)
        assert p.planned_start <= p.planned_end
        if p.status in (S.PLANNED, S.TENDERING):
            assert not entries and not p.supplier_name
        else:
            assert len(p.supplier_code) == 18 and set(p.supplier_code) <= set(USCC_ALPHABET)
            assert p.supplier_code[17] == uscc_check(p.supplier_code[:17])
            assert "有限公司" in p.supplier_name
            assert rnd.implementing_starts <= p.contract_date <= today
            assert p.contract_amount_fen <= p.cap_fen
        if p.status in (S.CONTRACTED, S.IN_PROGRESS, S.DELIVERED):
            assert 0 < p.paid_fen < p.committed_fen  # something paid, more to pay
        if p.delivered_on is not None:
            assert p.delivered_on <= today
    # what each envelope's procurements hold (caps while open, what was paid once finished)
    for envelope in await Envelope.filter(round_id=rnd.id):
        held = sum(p.reserved_fen for p in procurements if p.envelope_id == envelope.id)
        assert held <= envelope.budget_fen
    assert sum(p.reserved_fen for p in procurements) <= rnd.fund_fen

    # late: past its planned end and not delivered
    late = [p for p in procurements if p.planned_end < today and p.status in (S.IN_PROGRESS,)]
    assert late
    assert not [
        p
        for p in procurements
        if p.planned_end < today and p.status in (S.PLANNED, S.TENDERING, S.CONTRACTED)
    ]

    # closing and cancelling released what was committed and unpaid
    (cancelled,) = [p for p in procurements if p.status == S.CANCELLED]
    assert cancelled.cancel_reason and cancelled.committed_fen == 0 and cancelled.paid_fen == 0
    assert await LedgerEntry.exists(procurement_id=cancelled.id, kind=EntryKind.RELEASE)
    closed = [p for p in procurements if p.status == S.CLOSED]
    assert all(p.paid_fen == p.committed_fen > 0 and p.finished_at for p in closed)
    assert await LedgerEntry.exists(procurement_id__in=[p.id for p in closed], kind="release")

    # a mistaken payment reversed
    reversal = await LedgerEntry.get(kind=EntryKind.REVERSAL).prefetch_related("reverses")
    assert reversal.reverses.kind == EntryKind.PAY and reversal.note
    assert reversal.entry_date >= reversal.reverses.entry_date

    # cap raises: one refused with the council's reason, one approved (the cap followed)
    changes = await CapChange.all().prefetch_related("procurement", "decided_by")
    assert Counter(c.status for c in changes) == {
        CapChangeStatus.REFUSED: 1,
        CapChangeStatus.APPROVED: 1,
    }
    for change in changes:
        assert change.reason and change.decided_by.role == Role.COUNCIL
        assert change.created_at < change.decided_at <= now
        assert change.new_cap_fen > change.old_cap_fen
        if change.status == CapChangeStatus.APPROVED:
            assert change.procurement.cap_fen == change.new_cap_fen
        else:
            assert change.decision_note
            assert change.procurement.cap_fen == change.old_cap_fen

    # milestones: the ones in progress have some done and some not
    for p in procurements:
        milestones = await Milestone.filter(procurement_id=p.id)
        done = [m for m in milestones if m.done_date]
        assert all(m.done_date <= today for m in done)
        if p.status == S.IN_PROGRESS:
            assert done and len(done) < len(milestones), p.title
        if p.status in (S.DELIVERED, S.CLOSED):
            assert milestones and len(done) == len(milestones), p.title

    # every step has its history, none of it in the future
    for p in procurements:
        events = await ProcurementEvent.filter(procurement_id=p.id).order_by("id")
        assert events[0].to_status == S.PLANNED and events[-1].to_status == p.status
        assert all(a.created_at <= b.created_at for a, b in zip(events, events[1:], strict=False))
    assert not await AuditEntry.filter(created_at__gt=now).exists()
    assert await AuditEntry.filter(subject_type="procurement", action="ledger.pay").count() >= 10


async def test_demo_ratings_come_from_residents_of_the_area(db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)
    rated = await Procurement.filter(status__in=[S.DELIVERED, S.CLOSED])
    assert len(rated) >= 3
    area_of = dict(await User.all().values_list("id", "area_id"))
    role_of = dict(await User.all().values_list("id", "role"))
    scores = Counter()
    for p in rated:
        ratings = await Rating.filter(procurement_id=p.id)
        assert len(ratings) >= 10, p.title
        assert all(area_of[r.user_id] == p.area_id for r in ratings)
        assert all(role_of[r.user_id] == Role.RESIDENT for r in ratings)
        assert all(r.created_at.date() >= p.delivered_on for r in ratings)
        assert any(r.comment for r in ratings)
        scores.update(r.score for r in ratings)
    assert set(scores) <= {1, 2, 3, 4, 5} and len(scores) >= 4
    assert scores[5] + scores[4] > scores[1] + scores[2] > 0  # mostly satisfied, not all
    rated_ids = [p.id for p in rated]
    assert not await Rating.exclude(procurement_id__in=rated_ids).exists()
    # the demo accounts have not rated: they can try
    demo = await User.filter(username__in=["resident", "voter"]).values_list("id", flat=True)
    assert not await Rating.filter(user_id__in=list(demo)).exists()


async def test_demo_documents_are_real_files_in_the_upload_dir(db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)
    documents = await ProcurementDocument.all()
    assert len(documents) >= 10
    assert {d.public for d in documents} == {True, False}
    # the demo's site photos are PNGs, re-encoded as JPEG like every uploaded photo
    assert {d.content_type for d in documents} == {"application/pdf", "image/jpeg"}
    assert all(d.created_at <= datetime.now(UTC) for d in documents)
    for d in documents:
        data = (settings.upload_dir / d.stored_name).read_bytes()
        assert len(data) == d.size
        assert sniff_document(data) == d.content_type
        if d.content_type == "application/pdf":
            assert_valid_pdf(data)
    # every contract that was signed is on file, and the public can read it
    contracted = await Procurement.filter(contract_date__not_isnull=True).values_list(
        "id", flat=True
    )
    contracts = {d.procurement_id for d in documents if d.kind == "contract" and d.public}
    assert contracts == set(contracted)


def assert_valid_pdf(data: bytes) -> None:
    """A one-page PDF 1.4 whose cross-reference table points at its objects."""
    assert data.startswith(b"%PDF-1.4\n") and data.rstrip().endswith(b"%%EOF")
    start = int(re.search(rb"startxref\n(\d+)\n", data).group(1))
    assert data[start:].startswith(b"xref\n0 ")
    offsets = re.findall(rb"(\d{10}) 00000 n ", data[start:])
    assert offsets
    for number, offset in enumerate(offsets, start=1):
        assert data[int(offset) :].startswith(b"%d 0 obj" % number)
    assert b"/Count 1" in data and b" Tj" in data


def test_demo_files_and_codes_are_well_formed():
    pdf = pdf_document("施工合同 HT-1", ["合同金额：人民币65,800.00元", "plain (ASCII) line"])
    assert_valid_pdf(pdf)
    assert "施工合同".encode("utf-16-be").hex().upper().encode() in pdf
    assert b"(plain \\(ASCII\\) line) Tj" in pdf
    png = png_picture(random.Random(1))
    assert sniff_document(png) == "image/png" and png == png_picture(random.Random(1))
    assert uscc_check("91440300708461136T"[:17]) == "T"  # a real, published code
    rng = random.Random(7)
    for _ in range(50):
        code = make_uscc(rng, "460107")
        assert len(code) == 18 and set(code) <= set(USCC_ALPHABET)
        assert code.startswith("91460107") and code[17] == uscc_check(code[:17])


async def test_the_demo_rounds_ocds_export_validates(client, db, settings):
    """The finished demo round's open data: a valid OCDS 1.1 release package, one release per
    procurement, its payments as transactions, no resident's name anywhere in it."""
    from tests.budget.test_ocds import validate

    await load_demo_data(PASSWORD, settings.upload_dir)
    rnd = await Round.get(results_published_at__not_isnull=True, phase=Phase.IMPLEMENTING)
    response = await client.get(f"/budget/rounds/{rnd.id}/ocds.json")
    assert response.status_code == 200
    package = response.json()
    validate(package)
    assert len(package["releases"]) == await Procurement.filter(round_id=rnd.id).count() == 10
    paid = dict(await Procurement.filter(round_id=rnd.id).values_list("id", "paid_fen"))
    for release in package["releases"]:
        procurement_id = int(release["ocid"].rsplit("-", 1)[1])
        transactions = [
            t for contract in release.get("contracts", [])
            for t in contract["implementation"]["transactions"]
        ]  # fmt: skip
        total = round(sum(t["value"]["amount"] for t in transactions) * 100)
        assert total == paid[procurement_id], release["ocid"]
    assert sum(paid.values()) > 0
    residents = await User.filter(role=Role.RESIDENT).values_list("display_name", flat=True)
    assert not [name for name in residents if name and name in response.text]


async def test_demo_residents_of_the_same_name_live_in_different_households(db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)
    rows = await User.filter(area_id__not_isnull=True).values_list(
        "area__name", "display_name", "household"
    )
    assert all(household for _area, _name, household in rows)
    by_name: dict[tuple[str, str], list[str]] = {}
    for area, name, household in rows:
        by_name.setdefault((area, name), []).append(household)
    assert all(len(set(h)) == len(h) for h in by_name.values())
    assert len(by_name[("东门社区", "唐家豪")]) == 2
    # per area, every household is another address
    per_area = Counter((area, household) for area, _name, household in rows)
    assert max(per_area.values()) == 1
