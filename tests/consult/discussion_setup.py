"""A discussion to test with: a voting round of East Gate with a proposal, an imported
election (a study) with a project, residents (verified and not), a council member and a
finance officer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from budget.models import Phase, Proposal, ProposalStatus, Round
from consult.models import Deliberation, DeliberationPhase, Meeting
from consult.services.comment_tally import recount_tallies
from core.models import Area, Role, User
from tests.helpers import make_area, make_proposal, make_round, make_user


@dataclass
class Setup:
    east: Area
    alice: User  # verified resident of East Gate
    bob: User  # verified resident of East Gate
    dora: User  # resident, not verified
    council: User
    finance: User
    round: Round
    proposal: Proposal
    study: Round
    study_project: Proposal


async def setup() -> Setup:
    east = await make_area("East Gate")
    alice = await make_user("alice", area=east, display_name="Alice Wu")
    bob = await make_user("bob", area=east, display_name="Bob Li")
    dora = await make_user("dora", area=east, verified=False)
    council = await make_user("council", Role.COUNCIL, display_name="Chen Hui")
    finance = await make_user("finance", Role.FINANCE)
    rnd = await make_round(phase=Phase.VOTING, envelopes={east: 100_000_00})
    proposal = await make_proposal(
        rnd, alice, "Benches by the canal", area=east, status=ProposalStatus.FEASIBLE
    )
    study = await make_round("Imported election", phase=Phase.CLOSED, is_study=True)
    project = await make_proposal(study, None, "Imported project", area=east)
    return Setup(east, alice, bob, dora, council, finance, rnd, proposal, study, project)


async def make_deliberation(phase: DeliberationPhase) -> Deliberation:
    return await Deliberation.create(
        title="Waste sorting",
        phase=phase,
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 4, 30),
    )


async def make_meeting() -> Meeting:
    from datetime import UTC, datetime

    return await Meeting.create(
        title="Public-opinion talk",
        place="East Gate community hall",
        starts_at=datetime(2026, 5, 16, 7, 0, tzinfo=UTC),
    )


def form(body: str = "A comment", stance: str = "neutral") -> dict[str, str]:
    return {"body": body, "stance": stance}


async def many_threads(subject_type: str, subject_id: int, author: User, n: int) -> list:
    """`n` top-level comments, written at once (the rate limit is for people, not tests)."""
    from consult.models import Comment

    await Comment.bulk_create(
        [
            Comment(subject_type=subject_type, subject_id=subject_id, author=author, body=f"t{i}")
            for i in range(n)
        ]
    )
    await recount_tallies()  # written in bulk: count the stances again
    return await Comment.filter(subject_type=subject_type, subject_id=subject_id).order_by("id")


def _root_of_reply(roots: list[int], i: int) -> int:
    """A third of the replies on the first thread, a third on the next 60, a third spread."""
    match i % 3:
        case 0:
            return roots[0]
        case 1:
            return roots[(i * 7) % min(60, len(roots))]
    return roots[(i * 7919) % len(roots)]


async def big_discussion(subject_type: str, subject_id: int, authors: list[User], n: int) -> None:
    """`n` comments on one subject, as a busy discussion has them: three in five top-level,
    the rest replies (a quarter of them two deep), most on the first threads, and one thread
    holding a third of all replies. Written in bulk, with each thread's `reply_count`."""
    from consult.models import Comment, Stance

    stances = list(Stance)
    n_roots = n * 3 // 5
    await Comment.bulk_create(
        [
            Comment(
                subject_type=subject_type,
                subject_id=subject_id,
                author=authors[i % len(authors)],
                stance=stances[i % 3],
                body=f"评论 {i}：" + "长椅、路灯和健身器材。" * (1 + i % 4),
            )
            for i in range(n_roots)
        ],
        batch_size=1000,
    )
    await recount_tallies()  # written in bulk: count the stances again
    roots = await Comment.filter(
        subject_type=subject_type, subject_id=subject_id, depth=0
    ).values_list("id", flat=True)
    n_replies = n - n_roots
    firsts = [
        Comment(
            subject_type=subject_type,
            subject_id=subject_id,
            parent_id=(root := _root_of_reply(roots, i)),
            root_id=root,
            depth=1,
            author=authors[(i + 1) % len(authors)],
            stance=stances[(i + 1) % 3],
            body=f"回复 {i}",
        )
        for i in range(n_replies * 3 // 4)
    ]
    await Comment.bulk_create(firsts, batch_size=1000)
    await recount_tallies()  # written in bulk: count the stances again
    firsts = await Comment.filter(subject_type=subject_type, subject_id=subject_id, depth=1).values(
        "id", "root_id"
    )
    seconds = [
        Comment(
            subject_type=subject_type,
            subject_id=subject_id,
            parent_id=(parent := firsts[(i * 13) % len(firsts)])["id"],
            root_id=parent["root_id"],
            depth=2,
            author=authors[(i + 2) % len(authors)],
            body=f"再回复 {i}",
        )
        for i in range(n_replies - len(firsts))
    ]
    await Comment.bulk_create(seconds, batch_size=1000)
    await recount_tallies()  # written in bulk: count the stances again
    threads: dict[int, int] = {}
    for root_id in await Comment.filter(
        subject_type=subject_type, subject_id=subject_id, depth__gt=0
    ).values_list("root_id", flat=True):
        threads[root_id] = threads.get(root_id, 0) + 1
    for root_id, count in threads.items():
        await Comment.filter(id=root_id).update(reply_count=count)
