"""Proposals as everyone reads them: the filtered, sorted list of the district's proposals
(its queries prepared once per shape), one proposal's page, and where a proposal may go.
Changing a proposal is `budget.services.proposal_changes`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from tortoise.expressions import F, Q
from tortoise.functions import Coalesce
from tortoise.queryset import QuerySet

from budget.models import (
    Category,
    Envelope,
    Proposal,
    ProposalPhoto,
    ProposalStatus,
    Round,
    Support,
)
from core.errors import NotFound
from core.forms import int_param
from core.i18n import _
from core.models import Area, AuditEntry, User
from core.prepared import Prepared

DISTRICT = "district"  # the form value for "district-wide" (no area)
PAGE_SIZE = 20

# sort key → ORDER BY (the id last makes every order deterministic for pagination)
SORTS = {
    "newest": ("-created_at", "-id"),
    "support": ("-support_count", "-id"),
    "cost_asc": ("effective_cost", "id"),
    "cost_desc": ("-effective_cost", "-id"),
    "title": ("title", "id"),
}


# --- reading -------------------------------------------------------------------------------


@dataclass
class ProposalFilters:
    round_id: int | None = None
    category: str = ""
    area: str = ""  # "" = all, DISTRICT = district-wide, else an area id
    status: str = ""
    q: str = ""
    sort: str = "newest"
    author_id: int | None = None  # "my proposals"

    @classmethod
    def from_query(cls, params: Mapping[str, str], user: User | None) -> ProposalFilters:
        area = params.get("area", "")
        if area != DISTRICT and int_param(area) is None:
            area = ""
        category = params.get("category", "")
        status = params.get("status", "")
        sort = params.get("sort", "newest")
        return cls(
            round_id=int_param(params.get("round")),
            category=category if category in Category._value2member_map_ else "",
            area=area,
            status=status if status in ProposalStatus._value2member_map_ else "",
            q=params.get("q", "").strip()[:200],
            sort=sort if sort in SORTS else "newest",
            author_id=user.id if user is not None and params.get("mine") == "1" else None,
        )


def filtered_proposals(filters: ProposalFilters) -> QuerySet[Proposal]:
    """One query for a page of the district's proposals (counts are columns): the projects of
    imported elections (studies) are never among them. Their rounds and areas are few and
    already loaded by the list page: `attach_rounds_and_areas` sets them without building a
    Round per row (most of the page's time on a large round)."""
    qs = Proposal.filter(round__is_study=False)
    if filters.round_id is not None:
        qs = qs.filter(round_id=filters.round_id)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.area == DISTRICT:
        qs = qs.filter(area_id__isnull=True)
    elif filters.area:
        qs = qs.filter(area_id=int(filters.area))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.author_id is not None:
        qs = qs.filter(author_id=filters.author_id)
    if filters.q:
        qs = qs.filter(Q(title__icontains=filters.q) | Q(description__icontains=filters.q))
    if filters.sort in ("cost_asc", "cost_desc"):
        qs = qs.annotate(effective_cost=Coalesce("revised_cost_fen", F("cost_fen")))
    return qs.order_by(*SORTS[filters.sort])


# What a proposal card shows (templates/budget/_proposal_card.html): the list loads only these,
# not the long description nor the dates it does not show.
CARD_FIELDS = (
    "id",
    "round_id",
    "area_id",
    "author_id",
    "title",
    "category",
    "status",
    "cost_fen",
    "revised_cost_fen",
    "support_count",
    "review_reason",
)


def attach_rounds_and_areas(proposals: list[Proposal], rounds: list, areas: list) -> None:
    rounds_by_id = {r.id: r for r in rounds}
    areas_by_id = {a.id: a for a in areas}
    for proposal in proposals:
        proposal.round = rounds_by_id[proposal.round_id]
        proposal.area = areas_by_id.get(proposal.area_id)


# --- the list page, with its queries prepared once per shape --------------------------------


@dataclass(slots=True)
class ProposalCard:
    """What a card shows of a proposal (CARD_FIELDS, with its round and area): the list page
    makes these from the rows directly, without a model instance per row."""

    id: int
    round_id: int
    area_id: int | None
    author_id: int
    title: str
    category: Category
    status: ProposalStatus
    cost_fen: int
    revised_cost_fen: int | None
    support_count: int
    review_reason: str
    round: Any = None
    area: Any = None

    @property
    def effective_cost_fen(self) -> int:
        return self.revised_cost_fen if self.revised_cost_fen is not None else self.cost_fen


@dataclass
class ListChoices:
    """The district's rounds (newest first; no imported election) and areas (by name) the
    list's filters offer, by id too."""

    rounds: list[Round]
    areas: list[Area]
    rounds_by_id: dict[int, Round]
    areas_by_id: dict[int, Area]
    # (option value, escaped name) of each area, escaped once rather than on every page
    area_options: list[tuple[str, Markup]]


_choices_cache: dict[Any, tuple[tuple, ListChoices]] = {}


def _choices_sql() -> str:
    """Everything `ListChoices` shows or orders by, in one query and in the order the filters
    list them: the district's rounds newest first (then by id), areas by name. The same text
    on SQLite and PostgreSQL; column 6 sorts the areas by name under the column's own
    collation."""
    return (
        f'SELECT 0, "id", "title", "phase", "created_at", NULL FROM "{Round._meta.db_table}" '
        'WHERE NOT "is_study" '
        f'UNION ALL SELECT 1, "id", "name", NULL, NULL, "name" FROM "{Area._meta.db_table}" '
        "ORDER BY 1, 5 DESC, 6, 2 DESC"
    )


async def list_choices() -> ListChoices:
    """The rounds and areas, read on every call as bare rows (one small query) and made into
    model instances only when those rows differ from the last call's: a new or renamed round
    or area, or a round's new phase, shows at once, whichever process changed it."""
    db = Round._meta.db
    _count, rows = await db.execute_query(_choices_sql())
    seen = tuple(tuple(row) for row in rows)
    key = db.connection_name
    cached = _choices_cache.get(key)
    if cached is not None and cached[0] == seen:
        return cached[1]
    # The instances `Round.filter(is_study=False).only("id", "title", "phase", "is_study")`
    # and `Area.all().only("id", "name")` would give, made from the same rows.
    rounds = [
        Round._init_from_db(id=r[1], title=r[2], phase=r[3], is_study=False)
        for r in seen
        if r[0] == 0
    ]
    areas = [Area._init_from_db(id=r[1], name=r[2]) for r in seen if r[0] == 1]
    choices = ListChoices(
        rounds,
        areas,
        {r.id: r for r in rounds},
        {a.id: a for a in areas},
        [(str(a.id), escape(a.name)) for a in areas],
    )
    _choices_cache[key] = (seen, choices)
    return choices


def _list_shape(filters: ProposalFilters) -> tuple | None:
    """What decides the SQL of the list's queries (the integer ids aside); None for a text
    search, whose pattern is not a plain parameter."""
    if filters.q:
        return None
    area = filters.area if filters.area in ("", DISTRICT) else "id"
    return (
        filters.round_id is not None,
        filters.category,
        area,
        filters.status,
        filters.author_id is not None,
        filters.sort,
    )


def _shaped(shape: tuple, *ids: int) -> QuerySet[Proposal]:
    has_round, category, area, status, has_author, sort = shape
    it = iter(ids)
    return filtered_proposals(
        ProposalFilters(
            round_id=next(it) if has_round else None,
            category=category,
            area=str(next(it)) if area == "id" else area,
            status=status,
            author_id=next(it) if has_author else None,
            sort=sort,
        )
    )


def _list_ids(filters: ProposalFilters) -> list[int]:
    ids = [] if filters.round_id is None else [filters.round_id]
    if filters.area not in ("", DISTRICT):
        ids.append(int(filters.area))
    if filters.author_id is not None:
        ids.append(filters.author_id)
    return ids


_LIST_COUNT = Prepared(lambda shape, *ids: _shaped(shape, *ids).count())
_LIST_PAGE = Prepared(
    lambda shape, *args: (
        _shaped(shape, *args[:-2]).only(*CARD_FIELDS).limit(args[-2]).offset(args[-1])
    )
)


def _card(row: Any, choices: ListChoices) -> ProposalCard:
    return ProposalCard(
        id=row["id"],
        round_id=row["round_id"],
        area_id=row["area_id"],
        author_id=row["author_id"],
        title=row["title"],
        category=Category(row["category"]),
        status=ProposalStatus(row["status"]),
        cost_fen=row["cost_fen"],
        revised_cost_fen=row["revised_cost_fen"],
        support_count=row["support_count"],
        review_reason=row["review_reason"],
        round=choices.rounds_by_id.get(row["round_id"]),
        area=choices.areas_by_id.get(row["area_id"]),
    )


async def list_page(
    filters: ProposalFilters, number: int | None, size: int, choices: ListChoices
) -> tuple[list, int, int]:
    """(the cards of page `number`, clamped to the pages there are; that number; the total)."""
    shape = _list_shape(filters)
    if shape is None:
        queryset = filtered_proposals(filters).only(*CARD_FIELDS)
        total = await queryset.count()
    else:
        ids = _list_ids(filters)
        total = await _LIST_COUNT.scalar(*ids, shape=shape)
    pages = max(1, -(-total // size))
    number = min(max(1, number or 1), pages)
    offset = (number - 1) * size
    if shape is None:
        items: list = list(await queryset.offset(offset).limit(size))
        attach_rounds_and_areas(items, choices.rounds, choices.areas)
        return items, number, total
    rows = await _LIST_PAGE.rows(*ids, size, offset, shape=shape)
    return [_card(row, choices) for row in rows], number, total


async def card_photo_ids(proposal_ids: list[int]) -> dict[int, int]:
    """The first photo of each of these proposals that has one (its thumbnail is on the
    card): one indexed query for a page of cards."""
    if not proposal_ids:
        return {}
    rows = await (
        ProposalPhoto.filter(proposal_id__in=proposal_ids)
        .order_by("-id")
        .values_list("proposal_id", "id")
    )
    return dict(rows)  # the lowest id wins: the rows come highest first


# The proposal page's queries, their SQL made once (see core.prepared).
_PROPOSAL = Prepared(
    lambda pid: (
        Proposal.filter(id=pid).select_related("round", "area", "author", "merged_into").limit(2)
    )
)
_PHOTOS = Prepared(lambda pid: ProposalPhoto.filter(proposal_id=pid))
_MERGED_FROM = Prepared(lambda pid: Proposal.filter(merged_into_id=pid).order_by("id"))
_HISTORY = Prepared(
    lambda pid: (
        AuditEntry.filter(subject_type=Proposal._meta.db_table, subject_id=pid, public=True)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )
)


async def get_proposal(proposal_id: int) -> Proposal:
    """A proposal with everything its page shows (404 if unknown)."""
    proposal = await _PROPOSAL.first(proposal_id)
    if proposal is None:
        raise NotFound(_("This proposal does not exist."))
    return proposal


async def proposal_photos(proposal: Proposal) -> list[ProposalPhoto]:
    return await _PHOTOS.all(proposal.id)


async def merged_from(proposal: Proposal) -> list[Proposal]:
    """The proposals merged into this one, oldest first."""
    return await _MERGED_FROM.all(proposal.id)


async def proposal_history(proposal: Proposal) -> list[AuditEntry]:
    """The public audit entries of a proposal, newest first."""
    return await _HISTORY.all(proposal.id)


async def has_supported(user: User | None, proposal: Proposal) -> bool:
    if user is None:
        return False
    return await Support.exists(proposal_id=proposal.id, user_id=user.id)


async def merge_candidates(proposal: Proposal) -> list[Proposal]:
    """Proposals of the same round that `proposal` may be merged into."""
    return (
        await Proposal.filter(round_id=proposal.round_id)
        .exclude(id=proposal.id)
        .exclude(status__in=[ProposalStatus.WITHDRAWN, ProposalStatus.MERGED])
        .select_related("area")
        .order_by("title", "id")
    )


@dataclass
class AreaChoice:
    value: str  # DISTRICT or the area id
    label: str
    budget_fen: int


async def area_choices(rnd: Round, user: User | None) -> list[AreaChoice]:
    """Where a proposal of `user` may go: their own area and district-wide, if the round has an
    envelope for it (a round without envelopes is one district-wide fund)."""
    envelopes = await Envelope.filter(round_id=rnd.id).select_related("area")
    if not envelopes:
        return [AreaChoice(DISTRICT, _("District-wide"), rnd.fund_fen)]
    choices = []
    for env in envelopes:
        if env.area_id is None:
            choices.insert(0, AreaChoice(DISTRICT, _("District-wide"), env.budget_fen))
        elif user is not None and env.area_id == user.area_id:
            choices.append(AreaChoice(str(env.area_id), env.area.name, env.budget_fen))
    return choices
