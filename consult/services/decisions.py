"""The decision of a deliberation round: the council publishes its summary and decision, in
the deciding phase, with links to the proposals, budgeting rounds and meetings it concerns
(each checked: it exists, and a proposal is not one of an imported election); the round
becomes published. Reading: what a decision concerns, with titles, and the decisions that
concern a subject (what its page shows: consult.routes.deliberations.panel).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from budget.models import Proposal, Round
from consult.models import (
    Deliberation,
    DeliberationLink,
    DeliberationPhase,
    Meeting,
    SubjectType,
)
from consult.permissions import can
from consult.services import notices
from consult.services.deliberations import MAX_TEXT
from core.audit import record
from core.db import lock_rows, select_named
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.forms import getlist, text
from core.i18n import _
from core.models import User

MEETING_CHOICES = 50  # the most recent meetings offered when publishing a decision


@dataclass
class DecisionInput:
    summary: str
    decision: str
    proposal_ids: list[int]
    round_ids: list[int]
    meeting_ids: list[int]


_NUMBERS = re.compile(r"[\s,，、;；#＃\d]*")


def _numbers(raw: str, field: str, errors: dict[str, str]) -> list[int]:
    """'12, 15；#20' → [12, 15, 20]; anything but numbers and separators is refused."""
    if not _NUMBERS.fullmatch(raw):
        errors[field] = _("Enter numbers separated by commas, for example 12, 15.")
        return []
    return sorted({int(n) for n in re.findall(r"\d+", raw) if len(n) <= 9})


def _ids(values: list[str], field: str, errors: dict[str, str]) -> list[int]:
    if any(not (v.isascii() and v.isdigit()) or len(v) > 9 for v in values):
        errors[field] = _("Choose from the list.")
        return []
    return sorted({int(v) for v in values})


def decision_form_values(data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    data = data or {}
    return {
        "summary": str(data.get("summary") or ""),
        "decision": str(data.get("decision") or ""),
        "proposals": str(data.get("proposals") or ""),
        "rounds": getlist(data, "rounds"),
        "meetings": getlist(data, "meetings"),
    }


async def parse_decision_input(data: Mapping[str, Any]) -> DecisionInput:
    """The summary, the decision and what it concerns, each link checked against the
    database (a proposal of an imported election is no subject of a decision)."""
    errors: dict[str, str] = {}
    summary = text(data.get("summary"), "summary", errors, max_length=MAX_TEXT)
    decision = text(data.get("decision"), "decision", errors, max_length=MAX_TEXT)
    proposal_ids = _numbers(str(data.get("proposals") or ""), "proposals", errors)
    round_ids = _ids(getlist(data, "rounds"), "rounds", errors)
    meeting_ids = _ids(getlist(data, "meetings"), "meetings", errors)
    if proposal_ids:
        found = dict(
            await Proposal.filter(id__in=proposal_ids).values_list("id", "round__is_study")
        )
        missing = [str(i) for i in proposal_ids if i not in found]
        studies = [str(i) for i in proposal_ids if found.get(i)]
        if missing:
            errors["proposals"] = _(
                "There is no proposal numbered {numbers}.", numbers=", ".join(missing)
            )
        elif studies:
            errors["proposals"] = _(
                "Proposal {numbers} belongs to an imported election, not to this district.",
                numbers=", ".join(studies),
            )
    if round_ids:
        found_rounds = set(
            await Round.filter(id__in=round_ids, is_study=False).values_list("id", flat=True)
        )
        if set(round_ids) - found_rounds:
            errors["rounds"] = _("Choose budgeting rounds from the list.")
    if meeting_ids:
        found_meetings = set(await Meeting.filter(id__in=meeting_ids).values_list("id", flat=True))
        if set(meeting_ids) - found_meetings:
            errors["meetings"] = _("Choose meetings from the list.")
    if errors:
        raise ValidationError(errors=errors)
    return DecisionInput(summary, decision, proposal_ids, round_ids, meeting_ids)


async def publish_decision(
    actor: User | None, deliberation_id: int, data: Mapping[str, Any]
) -> Deliberation:
    """Publish a round's summary and decision with its links; the round becomes published.
    Only in the deciding phase; a second submission finds it published (409)."""
    d = await Deliberation.get_or_none(id=deliberation_id)
    if d is None:
        raise NotFound(_("This deliberation round does not exist."))
    if d.phase == DeliberationPhase.PUBLISHED:
        raise Conflict(_("This deliberation round's decision is already published."))
    if not can(actor, "publish_decision", d):
        raise PermissionDenied(publish_refusal(d))
    values = await parse_decision_input(data)
    async with in_transaction() as conn:
        d = (await lock_rows(conn, Deliberation, [deliberation_id]))[0]
        if d.phase == DeliberationPhase.PUBLISHED:
            raise Conflict(_("This deliberation round's decision is already published."))
        if not can(actor, "publish_decision", d):
            raise PermissionDenied(publish_refusal(d))
        d.summary = values.summary
        d.decision = values.decision
        d.published_at = datetime.now(UTC)
        d.phase = DeliberationPhase.PUBLISHED
        await d.save(using_db=conn, update_fields=["summary", "decision", "published_at", "phase"])
        links = [
            *((SubjectType.PROPOSAL, i) for i in values.proposal_ids),
            *((SubjectType.ROUND, i) for i in values.round_ids),
            *((SubjectType.MEETING, i) for i in values.meeting_ids),
        ]
        await DeliberationLink.bulk_create(
            [
                DeliberationLink(deliberation_id=d.id, subject_type=kind, subject_id=i)
                for kind, i in links
            ],
            using_db=conn,
        )
        await notices.tell_decision_published(conn, d, actor)
        await record(
            actor,
            "deliberation.publish",
            d,
            public=True,
            using_db=conn,
            proposals=values.proposal_ids,
            rounds=values.round_ids,
            meetings=values.meeting_ids,
        )
    return d


def publish_refusal(d: Deliberation) -> str:
    if d.phase != DeliberationPhase.DECIDING:
        return _("The council publishes its decision when the round is in the deciding phase.")
    return _("Only council members publish a decision.")


async def decision_choices() -> dict[str, list]:
    """What the publishing form offers: the district's budgeting rounds and recent meetings."""
    rounds = await Round.filter(is_study=False).order_by("-id").only("id", "title")
    meetings = (
        await Meeting.all()
        .order_by("-starts_at", "-id")
        .limit(MEETING_CHOICES)
        .only("id", "title", "starts_at")
    )
    return {"rounds": list(rounds), "meetings": list(meetings)}


# --- reading --------------------------------------------------------------------------------


@dataclass
class LinkedItem:
    kind: SubjectType
    id: int
    title: str
    when: datetime | None = None


async def decision_links(d: Deliberation) -> list[LinkedItem]:
    """What a published decision concerns, with titles: proposals, rounds, meetings (one query
    for the links, one per kind present)."""
    links = await DeliberationLink.filter(deliberation_id=d.id).values_list(
        "subject_type", "subject_id"
    )
    wanted: dict[str, list[int]] = {}
    for kind, subject_id in links:
        wanted.setdefault(str(kind), []).append(subject_id)
    items: list[LinkedItem] = []
    if ids := wanted.get(SubjectType.PROPOSAL):
        for pid, title in (
            await Proposal.filter(id__in=ids).order_by("id").values_list("id", "title")
        ):
            items.append(LinkedItem(SubjectType.PROPOSAL, pid, title))
    if ids := wanted.get(SubjectType.ROUND):
        for rid, title in await Round.filter(id__in=ids).order_by("id").values_list("id", "title"):
            items.append(LinkedItem(SubjectType.ROUND, rid, title))
    if ids := wanted.get(SubjectType.MEETING):
        rows = (
            await Meeting.filter(id__in=ids)
            .order_by("starts_at")
            .values_list("id", "title", "starts_at")
        )
        items += [LinkedItem(SubjectType.MEETING, mid, title, at) for mid, title, at in rows]
    return items


async def decisions_about(subject_type: str, subject_id: int) -> list[Deliberation]:
    """The rounds whose published decision links to this subject, newest first: one indexed
    query (deliberation_link (subject_type, subject_id), joined to its round). Most subjects
    have none: a plain indexed probe answers them first (building the ORM's join alone costs
    more than the probe runs, on every proposal page)."""
    probe = "SELECT 1 FROM deliberation_link WHERE subject_type = :t AND subject_id = :id LIMIT 1"
    if not await select_named(probe, {"t": str(subject_type), "id": subject_id}):
        return []
    links = (
        await DeliberationLink.filter(
            subject_type=subject_type,
            subject_id=subject_id,
            deliberation__phase=DeliberationPhase.PUBLISHED,
        )
        .select_related("deliberation")
        .order_by("-deliberation__published_at", "-deliberation_id")
    )
    return [link.deliberation for link in links]
