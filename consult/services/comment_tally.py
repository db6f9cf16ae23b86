"""The stance counts at the top of a discussion, kept per subject (`CommentTally`) in the
transaction that posts a comment or changes its stance, so that a thread of 10,000 comments
reads one row where counting would scan them all.

The change is one atomic upsert (INSERT … ON CONFLICT DO UPDATE, on SQLite and PostgreSQL):
two comments posted at once on the same subject both count. `recount_tallies` rebuilds every
tally from the comments, for data written in bulk (the demo, tests, the benchmark's fill).
"""

from __future__ import annotations

from typing import Any

from tortoise import connections

from consult.models import Stance
from core.db import bind_named, select_named

COLUMNS = {Stance.FOR: "in_favour", Stance.AGAINST: "against", Stance.NEUTRAL: "neutral"}


async def count_stance(
    conn: Any, subject_type: str, subject_id: int, stance: str, delta: int = 1
) -> None:
    """Add `delta` comments of `stance` to the subject's tally, in the caller's transaction."""
    column = COLUMNS[Stance(stance)]
    first = {c: (delta if c == column else 0) for c in COLUMNS.values()}
    sql = (
        "INSERT INTO comment_tally (subject_type, subject_id, in_favour, against, neutral)"
        " VALUES (:type, :id, :in_favour, :against, :neutral)"
        " ON CONFLICT (subject_type, subject_id)"
        f" DO UPDATE SET {column} = comment_tally.{column} + :delta"
    )
    params = {"type": str(subject_type), "id": subject_id, "delta": delta, **first}
    await conn.execute_query(*bind_named(conn.capabilities.dialect, sql, params))


async def read_tally(subject_type: str, subject_id: int) -> dict[Stance, int]:
    """Comments per stance on a subject: one row by its unique index."""
    rows = await select_named(
        "SELECT in_favour, against, neutral FROM comment_tally"
        " WHERE subject_type = :type AND subject_id = :id",
        {"type": str(subject_type), "id": subject_id},
    )
    row = dict(rows[0]) if rows else {}
    return {stance: row.get(column, 0) for stance, column in COLUMNS.items()}


async def recount_tallies(using_db: Any = None) -> None:
    """Every subject's tally counted again from its comments (after a bulk insert)."""
    conn = using_db or connections.get("default")
    await conn.execute_query("DELETE FROM comment_tally")
    await conn.execute_query(
        "INSERT INTO comment_tally (subject_type, subject_id, in_favour, against, neutral)"
        " SELECT subject_type, subject_id,"
        " SUM(CASE WHEN stance = 'for' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN stance = 'against' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN stance = 'neutral' THEN 1 ELSE 0 END)"
        " FROM comment GROUP BY subject_type, subject_id"
    )
