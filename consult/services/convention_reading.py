"""Reading conventions for their pages: one version with its clauses and, from version 2 on,
what changed since the version before (a word diff per clause, added and removed clauses
marked), comment counts per clause, a clause's latest text, the versions, and the list
(filters, search, pages). Changing them is consult.services.conventions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tortoise.expressions import Q, Subquery

from consult.models import (
    Clause,
    ClauseText,
    CommentTally,
    Convention,
    ConventionArea,
    ConventionState,
    ConventionVersion,
    SubjectType,
)
from consult.permissions import can
from consult.rules.textdiff import Piece, changed, word_diff
from consult.services.conventions import get_version, texts_of
from core.errors import NotFound
from core.i18n import _
from core.models import Area, User
from core.web.pagination import Page

PAGE_SIZE = 20


@dataclass
class ClauseView:
    """A clause in one version, and how it changed since the version before."""

    clause_id: int
    position: int
    heading: str
    body: str
    change_note: str = ""
    kind: str = "same"  # same | changed | added | removed
    heading_diff: list[Piece] = field(default_factory=list)
    body_diff: list[Piece] = field(default_factory=list)
    comments: int = 0


@dataclass
class VersionView:
    version: ConventionVersion
    clauses: list[ClauseView]  # in order, removed ones (kind "removed") where they stood
    previous: ConventionVersion | None = None
    preamble_diff: list[Piece] = field(default_factory=list)

    @property
    def current(self) -> list[ClauseView]:
        return [c for c in self.clauses if c.kind != "removed"]

    @property
    def changes(self) -> int:
        return sum(1 for c in self.clauses if c.kind != "same")


async def version_view(c: Convention, number: int, with_counts: bool = True) -> VersionView:
    """Version `number` with its clauses and, from version 2 on, what changed since the one
    before (a word diff of each changed clause; added and removed clauses marked). Three or
    four queries whatever the number of clauses."""
    version = await get_version(c, number)
    texts = await texts_of(version.id)
    previous = None
    before: dict[int, ClauseText] = {}
    if number > 1:
        previous = await get_version(c, number - 1)
        before = {t.clause_id: t for t in await texts_of(previous.id)}
    views: list[ClauseView] = []
    for t in texts:
        view = ClauseView(t.clause_id, t.position, t.heading, t.body, t.change_note)
        old = before.get(t.clause_id)
        if previous is not None and old is None:
            view.kind = "added"
        elif old is not None:
            view.heading_diff = word_diff(old.heading, t.heading)
            view.body_diff = word_diff(old.body, t.body)
            if changed(view.heading_diff) or changed(view.body_diff):
                view.kind = "changed"
        views.append(view)
    kept = {t.clause_id for t in texts}
    for old in sorted(before.values(), key=lambda t: t.position, reverse=True):
        if old.clause_id in kept:
            continue
        gone = ClauseView(old.clause_id, old.position, old.heading, old.body, kind="removed")
        # where it stood: after the clauses that came before it in the old version
        at = next(
            (
                i
                for i, v in enumerate(views)
                if v.kind != "removed" and _old_pos(v, before) > old.position
            ),
            len(views),
        )
        views.insert(at, gone)
    if with_counts:
        await _comment_counts(views)
    return VersionView(
        version=version,
        clauses=views,
        previous=previous,
        preamble_diff=word_diff(previous.preamble, version.preamble) if previous else [],
    )


def _old_pos(view: ClauseView, before: dict[int, ClauseText]) -> int:
    old = before.get(view.clause_id)
    return old.position if old is not None else 10**6


async def _comment_counts(views: list[ClauseView]) -> None:
    """How many comments each clause has: its tally rows, one query."""
    ids = [v.clause_id for v in views]
    if not ids:
        return
    rows = await CommentTally.filter(subject_type=SubjectType.CLAUSE, subject_id__in=ids).values(
        "subject_id", "in_favour", "against", "neutral"
    )
    counts = {r["subject_id"]: r["in_favour"] + r["against"] + r["neutral"] for r in rows}
    for v in views:
        v.comments = counts.get(v.clause_id, 0)


async def clause_of(c: Convention, clause_id: int) -> tuple[Clause, ClauseText | None]:
    """A clause of the convention and its latest text the public may read (or, for a clause
    only in the version being written, None)."""
    clause = await Clause.get_or_none(id=clause_id, convention_id=c.id)
    if clause is None:
        raise NotFound(_("This clause does not exist."))
    text_row = (
        await ClauseText.filter(clause_id=clause.id, version__number__lte=c.version)
        .order_by("-version__number")
        .first()
    )
    return clause, text_row


async def versions_of(c: Convention, staff: bool) -> list[ConventionVersion]:
    """The versions, oldest first (unpublished ones for staff only)."""
    qs = ConventionVersion.filter(convention_id=c.id)
    if not staff:
        qs = qs.filter(published_at__isnull=False)
    return list(await qs.order_by("number"))


@dataclass
class ConventionFilters:
    state: str = ""
    area: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> ConventionFilters:
        state = params.get("state", "")
        area = params.get("area", "")
        if not (area.isascii() and area.isdigit() and len(area) <= 9):
            area = ""
        return cls(
            state=state if state in ConventionState._value2member_map_ else "",
            area=area,
            q=params.get("q", "").strip()[:200],
        )

    @property
    def active(self) -> bool:
        return bool(self.state or self.area or self.q)


async def list_page(user: User | None, filters: ConventionFilters, number: int | None) -> Page:
    """A page of conventions, newest first, each with its `areas` (drafts: staff only). Two
    queries and a count whatever the page's size."""
    qs = Convention.all()
    if not can(user, "create_convention"):
        qs = qs.exclude(state=ConventionState.DRAFT)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.area:
        with_areas = Subquery(ConventionArea.all().values("convention_id"))
        of_area = Subquery(ConventionArea.filter(area_id=int(filters.area)).values("convention_id"))
        qs = qs.filter(Q(id__in=of_area) | ~Q(id__in=with_areas))
    if filters.q:
        qs = qs.filter(title__icontains=filters.q)
    qs = qs.order_by("-opens_on", "-id")
    total = await qs.count()
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, number or 1), pages)
    items = list(await qs.offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    ids = [c.id for c in items]
    areas: dict[int, list[Area]] = {i: [] for i in ids}
    if ids:
        for link in await ConventionArea.filter(convention_id__in=ids).select_related("area"):
            areas[link.convention_id].append(link.area)
    for c in items:
        c.areas = sorted(areas[c.id], key=lambda a: a.name)
    return Page(items=items, number=number, size=PAGE_SIZE, total=total)
