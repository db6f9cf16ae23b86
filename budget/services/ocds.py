"""A round's procurements as an Open Contracting Data Standard 1.1 release package.

One release per procurement, a snapshot of everything public about it: `ocid` = the
deployment's prefix (setting `ocds_prefix`) + "-" + the procurement's id; the district as
buyer (setting `ocds_buyer_name`) and the supplier as parties; `planning.budget` = the cap;
`tender` with its status and main procurement category; once contracted, one award and one
contract whose `implementation` holds the payments (`transactions`) and milestones. Amounts
are yuan (`{"amount": 1234.5, "currency": "CNY"}`), dates ISO 8601 with the district's offset.

A release's `id` is the ocid followed by a digest of its content, so it changes whenever
anything published about the procurement changes (a payment, a milestone met, a new state).

Nothing about residents is exported (no author, no rating, no account). The whole package is
built from a fixed number of queries (the procurements, their payments, milestones and public
documents), whatever the size of the round. The schema is in ../shared/ocds;
`tests/budget/test_ocds.py` validates the output against it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from tortoise.functions import Max

from budget.models import (
    DocumentKind,
    LedgerEntry,
    Milestone,
    Procurement,
    ProcurementDocument,
    ProcurementStatus,
    Round,
)
from budget.services.disclosure import Payment, payments_of
from core.i18n import local_today

S = ProcurementStatus
OCDS_VERSION = "1.1"
CURRENCY = "CNY"
USCC_SCHEME = "CN-USCC"  # org-id.guide: China, unified social credit code
DISTRICT_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving
BUYER_ID = "buyer"

# the tags a release carries, by the procurement's state
TAGS = {
    S.PLANNED: ["planning"],
    S.TENDERING: ["tender"],
    S.CONTRACTED: ["award", "contract"],
    S.IN_PROGRESS: ["implementation"],
    S.DELIVERED: ["implementation"],
    S.CLOSED: ["implementation", "contractTermination"],
}

# tender.status (tenderStatus codelist), before the contract
TENDER_STATUS = {S.PLANNED: "planned", S.TENDERING: "active"}

# documentType codelist
DOCUMENT_TYPES = {
    DocumentKind.CONTRACT: "contractSigned",
    DocumentKind.ACCEPTANCE: "completionCertificate",
    DocumentKind.INVOICE: "financialProgressReport",
}


@dataclass(frozen=True)
class Publisher:
    """Where the package comes from: the settings and the URLs the route knows."""

    ocid_prefix: str
    buyer_name: str
    package_uri: str
    document_url: Callable[[int], str]  # absolute URL of a public document
    procurement_url: Callable[[int], str]  # absolute URL of a procurement's public page


def value(fen: int | None) -> dict[str, Any]:
    """An OCDS amount: yuan as a number (at most two decimals), in CNY."""
    return {"amount": None if fen is None else int(fen) / 100, "currency": CURRENCY}


def day_time(day: date | None) -> str | None:
    """A date as an OCDS date-time: the start of that day in the district."""
    if day is None:
        return None
    return datetime.combine(day, time(), DISTRICT_TZ).isoformat()


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _contracted(p: Procurement) -> bool:
    return p.contract_date is not None and p.contract_amount_fen is not None


def _milestone(m: Milestone, today: date) -> dict[str, Any]:
    if m.done_date is not None:
        status = "met"
    elif m.planned_date < today:
        status = "notMet"
    else:
        status = "scheduled"
    out: dict[str, Any] = {
        "id": str(m.id),
        "title": m.title,
        "type": "delivery",
        "dueDate": day_time(m.planned_date),
        "status": status,
    }
    if m.done_date is not None:
        out["dateMet"] = day_time(m.done_date)
    if m.note:
        out["description"] = m.note
    return out


def _document(d: ProcurementDocument, publisher: Publisher) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(d.id),
        "title": d.title,
        "url": publisher.document_url(d.id),
        "format": d.content_type,
        "datePublished": instant(d.created_at),
    }
    kind = DOCUMENT_TYPES.get(DocumentKind(d.kind))
    if kind:
        out["documentType"] = kind
    return out


def _supplier(p: Procurement) -> dict[str, Any]:
    """The supplier as a party; its id is its unified social credit code when known."""
    party: dict[str, Any] = {
        "id": f"{USCC_SCHEME}-{p.supplier_code}" if p.supplier_code else f"supplier-{p.id}",
        "name": p.supplier_name,
        "roles": ["supplier", "payee"],
    }
    if p.supplier_code:
        party["identifier"] = {
            "scheme": USCC_SCHEME,
            "id": p.supplier_code,
            "legalName": p.supplier_name,
        }
    return party


def release_of(
    p: Procurement,
    payments: list[Payment],
    milestones: list[Milestone],
    documents: list[ProcurementDocument],
    publisher: Publisher,
    last_change: datetime,
    today: date,
) -> dict[str, Any]:
    """One procurement as a release (pure: everything it needs is passed in)."""
    ocid = f"{publisher.ocid_prefix}-{p.id}"
    status = S(p.status)
    contracted = _contracted(p)
    buyer = {"id": BUYER_ID, "name": publisher.buyer_name}
    parties = [{**buyer, "roles": ["buyer", "procuringEntity", "payer"]}]
    if status == S.CANCELLED:
        tags = ["contractTermination"] if contracted else ["tenderCancellation"]
    else:
        tags = TAGS[status]
    tender: dict[str, Any] = {
        "id": f"{ocid}-tender",
        "title": p.title,
        "status": "complete" if contracted else TENDER_STATUS.get(status, "cancelled"),
        "mainProcurementCategory": p.kind,
        "value": value(p.cap_fen),
        "procuringEntity": buyer,
        "contractPeriod": {
            "startDate": day_time(p.planned_start),
            "endDate": day_time(p.planned_end),
        },
    }
    release: dict[str, Any] = {
        "ocid": ocid,
        "id": "",  # filled below from the content
        "date": instant(last_change),
        "tag": tags,
        "initiationType": "tender",
        "parties": parties,
        "buyer": buyer,
        "planning": {
            "rationale": p.proposal.title if p.proposal else p.title,
            "budget": {
                "id": f"{ocid}-budget",
                "description": p.title,
                "amount": value(p.cap_fen),
                "projectID": str(p.proposal_id),
                "uri": publisher.procurement_url(p.id),
            },
        },
        "tender": tender,
    }
    docs = [_document(d, publisher) for d in documents]
    ms = [_milestone(m, today) for m in milestones]
    if contracted:
        supplier = _supplier(p)
        parties.append(supplier)
        supplier_ref = {"id": supplier["id"], "name": supplier["name"]}
        award_id = f"{ocid}-award"
        release["awards"] = [
            {
                "id": award_id,
                "title": p.title,
                "status": "active",
                "date": day_time(p.contract_date),
                "value": value(p.contract_amount_fen),
                "suppliers": [supplier_ref],
            }
        ]
        contract: dict[str, Any] = {
            "id": f"{ocid}-contract",
            "awardID": award_id,
            "title": p.contract_ref or p.title,
            "status": "terminated" if status.finished else "active",
            "value": value(p.contract_amount_fen),
            "dateSigned": day_time(p.contract_date),
            "period": {
                "startDate": day_time(p.planned_start),
                "endDate": day_time(p.delivered_on or p.planned_end),
            },
            "implementation": {
                "transactions": [
                    {
                        "id": f"{ocid}-payment-{pay.id}",
                        "date": day_time(pay.entry_date),
                        "value": value(pay.amount_fen),
                        "payer": buyer,
                        "payee": supplier_ref,
                    }
                    for pay in payments
                ],
                "milestones": ms,
            },
        }
        if docs:
            contract["documents"] = docs
        release["contracts"] = [contract]
    else:
        if ms:
            release["planning"]["milestones"] = ms
        if docs:
            tender["documents"] = docs
    digest = hashlib.sha256(
        json.dumps({**release, "date": None}, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()[:16]
    release["id"] = f"{ocid}-{digest}"
    return release


async def release_package(rnd: Round, publisher: Publisher) -> dict[str, Any]:
    """The round's release package: five queries, whatever the number of procurements."""
    today = local_today()
    procurements = (
        await Procurement.filter(round_id=rnd.id).order_by("id").select_related("proposal")
    )
    ids = [p.id for p in procurements]
    payments = await payments_of(ids) if ids else {}
    milestones: dict[int, list[Milestone]] = defaultdict(list)
    documents: dict[int, list[ProcurementDocument]] = defaultdict(list)
    last_entry: dict[int, datetime] = {}
    if ids:
        rows = (
            await LedgerEntry.filter(procurement_id__in=ids)
            .group_by("procurement_id")
            .annotate(last=Max("created_at"))
            .values_list("procurement_id", "last")
        )
        last_entry = {pid: moment for pid, moment in rows if moment is not None}
        for m in await Milestone.filter(procurement_id__in=ids).order_by("planned_date", "id"):
            milestones[m.procurement_id].append(m)
        for d in await ProcurementDocument.filter(procurement_id__in=ids, public=True).order_by(
            "id"
        ):
            documents[d.procurement_id].append(d)
    releases = []
    latest = rnd.results_published_at or rnd.updated_at
    for p in procurements:
        # the latest change known for certain: the row, its last ledger entry, a milestone
        # added or a document published (the release's id changes with any change at all)
        last_change = max(
            [
                p.updated_at,
                *([last_entry[p.id]] if p.id in last_entry else []),
                *(m.created_at for m in milestones[p.id]),
                *(d.created_at for d in documents[p.id]),
            ]
        )
        latest = max(latest, last_change)
        releases.append(
            release_of(
                p,
                payments.get(p.id, []),
                milestones[p.id],
                documents[p.id],
                publisher,
                last_change,
                today,
            )
        )
    return {
        "uri": publisher.package_uri,
        "version": OCDS_VERSION,
        "publishedDate": instant(latest),
        "publisher": {"name": publisher.buyer_name},
        "releases": releases,
    }
