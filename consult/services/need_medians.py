"""The median response times of a needs dashboard selection, kept in the database while
their stamp holds (see consult.services.need_dashboard): merged from the response-time
histograms only after an answer changed them."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError

from consult.models import NeedDashboardCache
from consult.rules.need_stats import median_days
from consult.services.need_selection import Read, Selection
from core.db import select_named

PRUNE_AFTER = timedelta(days=60)


def _days(histogram: Counter[int]) -> str | None:
    """The median response time as the page and the CSV show it ("1.3"), None if none."""
    value = median_days(histogram)
    return None if value is None else str(value)


def compute_medians(rows: list[tuple[str, int, str, int, int]]) -> tuple[dict, dict]:
    """(group medians, cell medians) in days ("1.3") from the selection's histogram rows (month,
    area, channel, hours, count): groups are the whole selection, each month, each month and
    channel, each channel, each area; cells are each month, area and channel (the CSV's rows).
    Pure: run off the event loop."""
    cells: dict[str, Counter[int]] = defaultdict(Counter)
    for month, area, channel, hours, count in rows:
        cells[f"{month}|{area}|{channel}"][int(hours)] += int(count)
    groups: dict[str, Counter[int]] = defaultdict(Counter)
    for key, histogram in cells.items():
        month, area, channel = key.split("|")
        for group in ("all", f"m|{month}", f"mc|{month}|{channel}", f"c|{channel}", f"a|{area}"):
            groups[group].update(histogram)
    return (
        {g: _days(h) for g, h in groups.items()},
        {c: _days(h) for c, h in cells.items()},
    )


async def keep(key: str, stamp: str, value: Any) -> None:
    """Store (or replace) a computed part of a selection for `stamp`: any worker may, the last
    write wins, and a row whose stamp no longer holds is made again, never used. Rows not
    made again for PRUNE_AFTER go (the twelve months before last month, say): keeping them
    would only save a recomputation, and their number would grow month after month."""
    now = datetime.now(UTC)
    values = {"stamp": stamp, "value": value, "computed_at": now}
    if not await NeedDashboardCache.filter(key=key).update(**values):
        try:
            await NeedDashboardCache.create(key=key, **values)
        except IntegrityError:  # another worker created it meanwhile
            await NeedDashboardCache.filter(key=key).update(**values)
    await NeedDashboardCache.filter(computed_at__lt=now - PRUNE_AFTER).delete()


async def medians(selection: Selection, got: Read, kind: str) -> dict[str, str | None]:
    """The selection's medians of `kind` ("groups": for the page; "cells": per month, area and
    channel, for the CSV): the kept ones when their stamp holds, else computed from the
    histograms (one more query) and kept."""
    stamp = got.medians_stamp()
    if got.totals.answered == 0:
        return {}  # nothing answered: every median is None
    key = selection.key(kind)
    if key not in got.kept:
        kept = await select_named(
            "SELECT stamp, CAST(value AS TEXT) FROM need_dashboard_cache WHERE key = :key",
            {"key": key},
        )
        if kept:
            got.kept[key] = (str(kept[0][0]), str(kept[0][1]))
    if key in got.kept and got.kept[key][0] == stamp:
        return json.loads(got.kept[key][1])
    where, params = selection.where()
    rows = await select_named(
        f"SELECT month, area_id, channel, hours, count FROM need_response_time WHERE {where}",
        params,
    )
    # tens of thousands of rows merged in pure Python (~0.1 s): off the event loop
    groups, cells = await asyncio.to_thread(compute_medians, [tuple(r) for r in rows])
    await keep(selection.key("groups"), stamp, groups)
    await keep(selection.key("cells"), stamp, cells)
    return groups if kind == "groups" else cells


def days(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


async def forget() -> None:
    """Drop everything kept (for a change that does not only add to the counts)."""
    await NeedDashboardCache.all().delete()
