"""Count the SQL queries a block of code runs (Tortoise logs each one on `tortoise.db_client`).

with count_queries() as queries:
    await client.get("/budget/proposals")
assert len(queries) <= 6, queries
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

_LOGGER = logging.getLogger("tortoise.db_client")


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        query = str(record.args[0]) if record.args else record.getMessage()
        if not query.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            self.queries.append(query)


@contextmanager
def count_queries() -> Iterator[list[str]]:
    collector = _Collector()
    old_level = _LOGGER.level
    _LOGGER.setLevel(logging.DEBUG)
    _LOGGER.addHandler(collector)
    try:
        yield collector.queries
    finally:
        _LOGGER.removeHandler(collector)
        _LOGGER.setLevel(old_level)
