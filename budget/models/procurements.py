"""Following the money: a funded proposal becomes a procurement with a budget cap; money moves
only as append-only ledger entries against it; milestones, documents, cap changes and
residents' ratings hang off it.

`committed_fen` and `paid_fen` on a procurement are the running sums of its ledger, kept by
`budget.services.ledger` in the transaction that appends an entry (with the procurement row
locked); the database refuses any row where paid ≤ committed ≤ cap does not hold.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from budget.models.rounds import Category
from core.i18n import lazy_gettext as _l


class ProcurementKind(StrEnum):
    """The OCDS main procurement category."""

    WORKS = "works"
    GOODS = "goods"
    SERVICES = "services"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])

    @classmethod
    def for_category(cls, category: str) -> ProcurementKind:
        return {
            Category.ENGINEERING: cls.WORKS,
            Category.EQUIPMENT: cls.GOODS,
            Category.SERVICE: cls.SERVICES,
        }[Category(category)]


KIND_LABELS = {
    ProcurementKind.WORKS: _l("Engineering works"),
    ProcurementKind.GOODS: _l("Goods and equipment"),
    ProcurementKind.SERVICES: _l("Public services"),
}


class ProcurementStatus(StrEnum):
    PLANNED = "planned"
    TENDERING = "tendering"
    CONTRACTED = "contracted"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(PROCUREMENT_STATUS_LABELS[self])

    @property
    def finished(self) -> bool:
        return self in (ProcurementStatus.CLOSED, ProcurementStatus.CANCELLED)


PROCUREMENT_STATUS_LABELS = {
    ProcurementStatus.PLANNED: _l("Planned"),
    ProcurementStatus.TENDERING: _l("Tendering"),
    ProcurementStatus.CONTRACTED: _l("Contracted"),
    ProcurementStatus.IN_PROGRESS: _l("In progress"),
    ProcurementStatus.DELIVERED: _l("Delivered"),
    ProcurementStatus.CLOSED: _l("Closed"),
    ProcurementStatus.CANCELLED: _l("Cancelled"),
}


class EntryKind(StrEnum):
    COMMIT = "commit"  # an obligation (the contract, an order)
    PAY = "pay"  # money paid out against what is committed
    RELEASE = "release"  # unspent commitment returned (automatic on close and cancel)
    REVERSAL = "reversal"  # undoes one earlier entry, which it points at

    @property
    def label(self) -> str:
        return str(ENTRY_KIND_LABELS[self])


ENTRY_KIND_LABELS = {
    EntryKind.COMMIT: _l("Commitment"),
    EntryKind.PAY: _l("Payment"),
    EntryKind.RELEASE: _l("Release"),
    EntryKind.REVERSAL: _l("Reversal"),
}


class DocumentKind(StrEnum):
    CONTRACT = "contract"
    ACCEPTANCE = "acceptance"
    INVOICE = "invoice"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(DOCUMENT_KIND_LABELS[self])


DOCUMENT_KIND_LABELS = {
    DocumentKind.CONTRACT: _l("Contract"),
    DocumentKind.ACCEPTANCE: _l("Acceptance report"),
    DocumentKind.INVOICE: _l("Invoice"),
    DocumentKind.OTHER: _l("Other document"),
}


class CapChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return str(CAP_CHANGE_STATUS_LABELS[self])


CAP_CHANGE_STATUS_LABELS = {
    CapChangeStatus.PENDING: _l("Waiting for the council"),
    CapChangeStatus.APPROVED: _l("Approved"),
    CapChangeStatus.REFUSED: _l("Refused"),
}


class Procurement(Model):
    """A funded proposal being bought: works, goods or services, never above its cap."""

    id = fields.IntField(primary_key=True)
    round: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "budget.Round", related_name="procurements", on_delete=fields.RESTRICT
    )
    envelope: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "budget.Envelope", related_name="procurements", on_delete=fields.RESTRICT
    )
    # converted once: the database refuses a second procurement for the same proposal
    proposal: fields.OneToOneRelation = fields.OneToOneField(
        "budget.Proposal", related_name="procurement", on_delete=fields.RESTRICT
    )
    area: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.Area", related_name="procurements", null=True, on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(ProcurementKind, max_length=10)
    title = fields.CharField(max_length=200)
    officer: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="procurements", null=True, on_delete=fields.SET_NULL
    )
    planned_start = fields.DateField()
    planned_end = fields.DateField()
    cap_fen = fields.BigIntField()
    committed_fen = fields.BigIntField(default=0)
    paid_fen = fields.BigIntField(default=0)
    status = fields.CharEnumField(
        ProcurementStatus, max_length=12, default=ProcurementStatus.PLANNED
    )
    cancel_reason = fields.TextField(default="")
    # the contract (recorded when it moves to contracted)
    supplier_name = fields.CharField(max_length=200, default="")
    supplier_code = fields.CharField(max_length=18, default="")  # unified social credit code
    contract_ref = fields.CharField(max_length=100, default="")
    contract_date = fields.DateField(null=True)
    contract_amount_fen = fields.BigIntField(null=True)
    delivered_on = fields.DateField(null=True)
    finished_at = fields.DatetimeField(null=True)  # closed or cancelled
    created_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="procurements_created", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "procurement"
        ordering = ["id"]
        indexes = [
            ("round_id", "status"),
            ("envelope_id",),
            ("round_id", "area_id", "kind"),
            ("officer_id",),
            # a round's procurements in order, a page at a time (finance and spending lists)
            ("round_id", "id"),
            # covers the finance page's sums per envelope and kind (read from the index alone)
            (
                "round_id",
                "envelope_id",
                "kind",
                "status",
                "cap_fen",
                "committed_fen",
                "paid_fen",
                "planned_end",
                "delivered_on",
            ),
        ]
        constraints = [
            CheckConstraint(check="cap_fen > 0", name="procurement_cap_positive"),
            CheckConstraint(check="paid_fen >= 0", name="procurement_paid_nonnegative"),
            CheckConstraint(
                check="paid_fen <= committed_fen", name="procurement_paid_le_committed"
            ),
            CheckConstraint(check="committed_fen <= cap_fen", name="procurement_committed_le_cap"),
            CheckConstraint(check="planned_start <= planned_end", name="procurement_dates_ordered"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def status_enum(self) -> ProcurementStatus:
        return ProcurementStatus(self.status)

    @property
    def kind_enum(self) -> ProcurementKind:
        return ProcurementKind(self.kind)

    @property
    def reserved_fen(self) -> int:
        """What it holds of its envelope: the cap while open, what was paid once finished."""
        return self.paid_fen if self.status_enum.finished else self.cap_fen


class ProcurementEvent(Model):
    """One step of a procurement's life (converted, a transition, the contract): who and when."""

    id = fields.IntField(primary_key=True)
    procurement: fields.ForeignKeyRelation[Procurement] = fields.ForeignKeyField(
        "budget.Procurement", related_name="events", on_delete=fields.CASCADE
    )
    from_status = fields.CharField(max_length=12, default="")
    to_status = fields.CharField(max_length=12)
    actor: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="procurement_events", null=True, on_delete=fields.SET_NULL
    )
    note = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "procurement_event"
        ordering = ["id"]
        indexes = [("procurement_id",)]


class LedgerEntry(Model):
    """One movement of money on a procurement. Never edited or deleted: a mistake is corrected
    by a reversal pointing at it (at most one per entry, the database says)."""

    id = fields.BigIntField(primary_key=True)
    procurement: fields.ForeignKeyRelation[Procurement] = fields.ForeignKeyField(
        "budget.Procurement", related_name="entries", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(EntryKind, max_length=10)
    amount_fen = fields.BigIntField()
    entry_date = fields.DateField()
    officer: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="ledger_entries", null=True, on_delete=fields.SET_NULL
    )
    document_ref = fields.CharField(max_length=100, default="")
    note = fields.TextField(default="")
    reverses: fields.OneToOneNullableRelation = fields.OneToOneField(
        "budget.LedgerEntry", related_name="reversed_by", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ledger_entry"
        ordering = ["id"]
        indexes = [("procurement_id", "kind"), ("entry_date",), ("officer_id",)]
        constraints = [CheckConstraint(check="amount_fen > 0", name="ledger_amount_positive")]


class Milestone(Model):
    id = fields.IntField(primary_key=True)
    procurement: fields.ForeignKeyRelation[Procurement] = fields.ForeignKeyField(
        "budget.Procurement", related_name="milestones", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=200)
    planned_date = fields.DateField()
    done_date = fields.DateField(null=True)
    note = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "milestone"
        ordering = ["planned_date", "id"]
        indexes = [("procurement_id",)]


class ProcurementDocument(Model):
    """A contract, acceptance report or invoice: checked by content, stored under a random
    name in the upload directory; shown to the public only when marked public."""

    id = fields.IntField(primary_key=True)
    procurement: fields.ForeignKeyRelation[Procurement] = fields.ForeignKeyField(
        "budget.Procurement", related_name="documents", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(DocumentKind, max_length=12)
    title = fields.CharField(max_length=200)
    stored_name = fields.CharField(max_length=64, unique=True)
    content_type = fields.CharField(max_length=32)
    size = fields.IntField()
    public = fields.BooleanField(default=False)
    uploaded_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="procurement_documents", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "procurement_document"
        ordering = ["id"]
        indexes = [("procurement_id",)]


class CapChange(Model):
    """A request to raise a cap, decided by a council member (lowering needs no request)."""

    id = fields.IntField(primary_key=True)
    procurement: fields.ForeignKeyRelation[Procurement] = fields.ForeignKeyField(
        "budget.Procurement", related_name="cap_changes", on_delete=fields.CASCADE
    )
    old_cap_fen = fields.BigIntField()
    new_cap_fen = fields.BigIntField()
    reason = fields.TextField()
    status = fields.CharEnumField(CapChangeStatus, max_length=10, default=CapChangeStatus.PENDING)
    requested_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="cap_changes_requested", null=True, on_delete=fields.SET_NULL
    )
    decided_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="cap_changes_decided", null=True, on_delete=fields.SET_NULL
    )
    decision_note = fields.TextField(default="")
    decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "cap_change"
        ordering = ["-id"]
        indexes = [("procurement_id", "status")]


class Rating(Model):
    """A resident's verdict on what was delivered: 1–5, once each, changeable for 30 days.
    Shown publicly without the resident's name."""

    id = fields.IntField(primary_key=True)
    procurement: fields.ForeignKeyRelation[Procurement] = fields.ForeignKeyField(
        "budget.Procurement", related_name="ratings", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "core.User", related_name="ratings", on_delete=fields.CASCADE
    )
    score = fields.SmallIntField()
    comment = fields.TextField(default="")
    hidden_reason = fields.CharField(max_length=200, default="")  # set by the council
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "rating"
        unique_together = [("procurement", "user")]
        indexes = [("procurement_id", "score")]
        constraints = [CheckConstraint(check="score BETWEEN 1 AND 5", name="rating_score_1_to_5")]
