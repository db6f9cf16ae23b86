"""The page stamp: one number in the database that changes whenever anything a public page
shows changes, so that a page rendered for visitors can be kept and reused for as long as the
stamp has not moved (`core.web.page_cache`).

The stamp is kept by triggers, not by the services: whatever writes a watched table (a
service, `manage.py`, a restore, a hand-typed UPDATE) moves it in the same transaction, and a
page cache can prove it is fresh with one read of one row.

- SQLite: a row trigger per table and event adds one to the stamp (one writer at a time).
- PostgreSQL: a deferred constraint trigger adds one at commit, once per transaction. The
  stamp's row is locked from then until the commit ends, so that a transaction never waits
  for it while holding rows another transaction wants (no deadlock), and commits that change
  watched tables queue only for that moment. TRUNCATE moves it too.

Each package's migrations call `watch` for the tables of theirs that public pages read;
`tests/core/test_page_cache.py` renders every cached page and fails on a table it reads that
no trigger watches.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.migrations.schema_editor.base import BaseSchemaEditor

STAMP_TABLE = "page_stamp"
TRIGGER_PREFIX = "page_stamp_"

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION bump_page_stamp() RETURNS trigger AS $$
BEGIN
    UPDATE page_stamp SET version = version + 1, writer = txid_current()
        WHERE id = 1 AND writer IS DISTINCT FROM txid_current();
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


@dataclass(frozen=True)
class Watched:
    """A table whose changes move the stamp: all of them, or only changes of `columns`, or
    only rows where `only` holds (an SQL condition on the row, e.g. "public")."""

    table: str
    columns: tuple[str, ...] = ()
    only: str = ""


def trigger_sql(dialect: str, watched: Watched) -> list[str]:
    """The statements that create the triggers watching one table."""
    t = watched.table
    of = f" OF {', '.join(watched.columns)}" if watched.columns else ""
    # (event, the row the condition reads)
    events = [("INSERT", "NEW"), (f"UPDATE{of}", "NEW"), ("DELETE", "OLD")]
    statements = []
    for event, row in events:
        name = f"{TRIGGER_PREFIX}{t}_{event.split()[0].lower()}"
        when = ""
        if watched.only:
            condition = watched.only.replace("ROW.", f"{row}.")
            if event.startswith("UPDATE"):
                condition = f"({condition}) OR ({watched.only.replace('ROW.', 'OLD.')})"
            when = f" WHEN ({condition})"
        if dialect == "postgres":
            statements.append(
                f'CREATE CONSTRAINT TRIGGER {name} AFTER {event} ON "{t}"'
                f" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW{when}"
                " EXECUTE FUNCTION bump_page_stamp()"
            )
        else:
            statements.append(
                f'CREATE TRIGGER {name} AFTER {event} ON "{t}" FOR EACH ROW{when}'
                f" BEGIN UPDATE {STAMP_TABLE} SET version = version + 1 WHERE id = 1; END"
            )
    if dialect == "postgres":
        statements.append(
            f'CREATE TRIGGER {TRIGGER_PREFIX}{t}_truncate AFTER TRUNCATE ON "{t}"'
            " FOR EACH STATEMENT EXECUTE FUNCTION bump_page_stamp()"
        )
    return statements


def watch(*watched: Watched):
    """A migration step (`ops.RunPython(watch(...))`) that adds the triggers of `watched`."""

    async def forward(_apps: object, editor: BaseSchemaEditor) -> None:
        dialect = editor.client.capabilities.dialect
        for w in watched:
            for sql in trigger_sql(dialect, w):
                await editor.client.execute_script(sql)

    return forward


async def create_stamp(_apps: object, editor: BaseSchemaEditor) -> None:
    """The stamp's one row and, on PostgreSQL, the function the triggers call."""
    await editor.client.execute_script(f"INSERT INTO {STAMP_TABLE} (id, version) VALUES (1, 0)")
    if editor.client.capabilities.dialect == "postgres":
        await editor.client.execute_script(_PG_FUNCTION)


WATCHED_SQL = {
    "sqlite": (
        "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger'"
        f" AND name LIKE '{TRIGGER_PREFIX}%'"
    ),
    "postgres": (
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        f" WHERE t.tgname LIKE '{TRIGGER_PREFIX}%'"
    ),
}
