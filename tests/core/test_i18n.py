"""Translated labels of enums, looked up once per locale."""

from __future__ import annotations

import contextvars
from enum import StrEnum

from starlette_babel import set_locale

from core.i18n import label, load_translations


class Phase(StrEnum):
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return "Round closed"


class Status(StrEnum):
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return "Procurement closed"


def test_members_of_two_enums_with_the_same_value_keep_their_own_labels():
    load_translations()
    # in a context of its own, so that the locale set here does not reach other tests
    contextvars.copy_context().run(_labels_in_english)


def _labels_in_english() -> None:
    set_locale("en")
    assert Phase.CLOSED == Status.CLOSED  # equal as strings
    assert label(Phase.CLOSED) == "Round closed"
    assert label(Status.CLOSED) == "Procurement closed"
    assert label(Phase.CLOSED) == "Round closed"  # and again, from what was kept
