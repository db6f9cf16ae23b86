"""Models and migrations agree: `tortoise makemigrations` would write nothing (it also
crashed outright while a migration did not declare the app it depends on)."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from core.settings import tortoise_config


async def test_makemigrations_finds_no_changes(database_url):
    apps = tortoise_config(database_url)["apps"]
    detector = MigrationAutodetector(Tortoise.apps, apps)
    writers = await detector.changes()
    assert [(w.app_label, w.name) for w in writers] == []
