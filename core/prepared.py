"""Prepared queries: a Tortoise queryset turned into SQL once per database, then run with new
parameter values.

Tortoise builds the SQL of every queryset anew on each call (through pypika), and with a few
`select_related` joins that costs more than running the query: the proposal page spent about a
millisecond building the SQL of its main query. A page's hot queries have a fixed shape, with
only integer ids changing, so the SQL is built once per database with stand-in values and
reused; rows become model instances through Tortoise's own executor, exactly as when the
queryset is awaited.

    proposal_with_round = Prepared(
        lambda pid: Proposal.filter(id=pid).select_related("round").limit(2)
    )
    proposal = await proposal_with_round.first(7)

Parameters must be integers that reach the SQL unchanged (ids, limits, offsets). The stand-ins
are checked when the query is prepared: each must appear in the SQL's values, the rest of the
SQL and values must not depend on them, or `Prepared` refuses the query.

A query whose shape varies (which filters apply, which order) takes a `shape`: a small hashable
key from a bounded set (flags and enum values, never free text), passed to the builder first and
prepared once per shape. Constant strings of a shape (a category) stay in the SQL's values.
`rows` gives the raw rows (no model instances), `scalar` the first column of the first row —
for a count:

    page_count = Prepared(lambda shape, rid: filtered(shape, rid).count())
    total = await page_count.scalar(7, shape=("service", "newest"))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

MODEL = TypeVar("MODEL", bound=Model)

# Two sets of stand-in values, unlike any id a test or a district would have.
_STAND_INS = (1_000_000_007, 2_000_000_011)


@dataclass
class _Compiled:
    sql: str
    values: list[Any]  # constant values, with None where an argument goes
    slots: list[tuple[int, int]]  # (position in values, argument index)
    select_related_idx: list
    custom_fields: list[str]


class Prepared(Generic[MODEL]):
    """A queryset of fixed shape whose integer parameters change from call to call."""

    def __init__(self, build: Callable[..., QuerySet[MODEL]]) -> None:
        self.build = build
        self._compiled: dict[tuple, _Compiled] = {}
        self._model: type[MODEL] | None = None

    def _build(self, shape: Any, args: list[int]) -> Any:
        return self.build(*args) if shape is None else self.build(shape, *args)

    def _compile(self, arity: int, db: Any, shape: Any = None) -> _Compiled:
        runs = []
        for base in _STAND_INS:
            args = [base + i for i in range(arity)]
            qs = self._build(shape, args)
            if isinstance(qs, QuerySet) and (
                qs._prefetch_map or qs._prefetch_queries or qs._single
            ):
                raise ValueError("Prepared queries take plain querysets (no prefetch, no get)")
            qs._db = db
            qs._make_query()
            sql, values = qs.query.get_parameterized_sql()
            runs.append((args, sql, list(values), qs))
        (args_a, sql_a, values_a, qs_a), (args_b, sql_b, values_b, _qs_b) = runs
        if sql_a != sql_b or len(values_a) != len(values_b):
            raise ValueError("The SQL of a prepared query must not depend on its parameters")
        slots: list[tuple[int, int]] = []
        constants: list[Any] = []
        for position, (a, b) in enumerate(zip(values_a, values_b, strict=True)):
            if a == b:
                constants.append(a)
                continue
            matches = [i for i in range(arity) if a == args_a[i] and b == args_b[i]]
            if len(matches) != 1:
                raise ValueError("A prepared query's parameter did not reach the SQL unchanged")
            slots.append((position, matches[0]))
            constants.append(None)
        if {i for _p, i in slots} != set(range(arity)):
            raise ValueError("Every parameter of a prepared query must be used")
        self._model = qs_a.model
        return _Compiled(
            sql_a,
            constants,
            slots,
            getattr(qs_a, "_select_related_idx", []),
            list(qs_a._annotations.keys()),
        )

    def _prepare(self, args: tuple, shape: Any, using_db: Any) -> tuple[Any, _Compiled, list]:
        """(connection, compiled query, values with these arguments)."""
        if self._model is None:
            # The model (and so the connection to use) is known once the queryset was built.
            stand_ins = [_STAND_INS[0] + i for i in range(len(args))]
            self._model = self._build(shape, stand_ins).model
        db = using_db or self._model._meta.db
        key = (db.connection_name, db.capabilities.dialect, len(args), shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(len(args), db, shape)
        values = list(compiled.values)
        for position, index in compiled.slots:
            values[position] = int(args[index])
        return db, compiled, values

    async def all(self, *args: int, shape: Any = None, using_db: Any = None) -> list[MODEL]:
        db, compiled, values = self._prepare(args, shape, using_db)
        executor = db.executor_class(
            model=self._model, db=db, select_related_idx=compiled.select_related_idx
        )
        return await executor.execute_select(
            compiled.sql, values, custom_fields=compiled.custom_fields
        )

    async def rows(self, *args: int, shape: Any = None, using_db: Any = None) -> list:
        """The raw rows (by column name or position: sqlite3.Row, asyncpg Record), without
        making model instances."""
        db, compiled, values = self._prepare(args, shape, using_db)
        _count, rows = await db.execute_query(compiled.sql, values)
        return list(rows)

    async def scalar(self, *args: int, shape: Any = None, using_db: Any = None) -> Any:
        """The first column of the first row (None without rows): a count."""
        rows = await self.rows(*args, shape=shape, using_db=using_db)
        return rows[0][0] if rows else None

    async def first(self, *args: int, shape: Any = None, using_db: Any = None) -> MODEL | None:
        rows = await self.all(*args, shape=shape, using_db=using_db)
        return rows[0] if rows else None


def _parameterized(qs: QuerySet, *fields: str) -> tuple[Any, str, list]:
    """(connection, SQL, values) of the queryset's values_list(*fields), built once."""
    query = qs.values_list(*fields)
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, values = query.query.get_parameterized_sql()
    return query._db, sql, list(values)


async def _capped(db: Any, sql: str, values: list, cap: int) -> int:
    """How many rows the query matches, counting no further than cap + 1, in one query that
    returns one row: the database stops at the limit (reading along the query's order's index)
    and no ids travel back. (A COUNT over an IN-subquery makes PostgreSQL scan the whole table
    to join it.)"""
    _n, rows = await db.execute_query(
        f"SELECT COUNT(*) FROM ({sql} LIMIT {int(cap) + 1}) AS capped", values
    )
    return int(rows[0][0])


async def page_of_rows(
    qs: QuerySet, fields: tuple[str, ...], *, size: int, number: int, cap: int
) -> tuple[list, int, int]:
    """A page of raw rows (the fields' columns, as the driver returns them: no model
    instances) of an ordered queryset, with how many rows match counted up to cap + 1, and
    the page number kept within the pages there are: (rows, count, number). The count reads
    ids only, so the database answers it from the index without reading the rows."""
    db, count_sql, count_values = _parameterized(qs, "id")
    total = await _capped(db, count_sql, count_values, cap)
    pages = max(1, -(-min(total, cap) // size))
    number = min(max(1, number), pages)
    db, sql, values = _parameterized(qs, *fields)
    _n, rows = await db.execute_query(
        f"{sql} LIMIT {int(size)} OFFSET {(number - 1) * int(size)}", values
    )
    return list(rows), total, number
