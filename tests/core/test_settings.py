"""Settings: every worker process agrees on the session key, and production refuses to start
without one."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from core.settings import ConfigurationError, Settings, load_or_create_secret_key

WORKERS = 12


def _start_worker(path: str, barrier, keys) -> None:
    # Writing a file is made slow, so that workers overlap between looking for the key and
    # writing it, as they can on a busy host.
    write_text = Path.write_text

    def slow_write_text(self: Path, *args, **kwargs):
        time.sleep(0.05)
        return write_text(self, *args, **kwargs)

    Path.write_text = slow_write_text
    barrier.wait()  # every worker looks for the key at the same moment
    keys.append(load_or_create_secret_key(Path(path)))


@pytest.mark.parametrize("attempt", range(3))
def test_workers_starting_together_share_one_generated_key(tmp_path, attempt):
    path = tmp_path / "data" / "secret_key"
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        barrier, keys = manager.Barrier(WORKERS), manager.list()
        workers = [
            context.Process(target=_start_worker, args=(str(path), barrier, keys))
            for _ in range(WORKERS)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        found = list(keys)
    assert len(found) == WORKERS
    assert len(set(found)) == 1 and len(found[0]) >= 48
    assert path.read_text().strip() == found[0]
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no leftovers
    assert path.stat().st_mode & 0o777 == 0o600


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("HTTPS_ONLY", "1")
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        Settings(database_url="sqlite://:memory:", secret_key_file=tmp_path / "secret_key")
    assert not (tmp_path / "secret_key").exists()


def test_secret_key_from_the_environment_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("HTTPS_ONLY", "1")
    settings = Settings(database_url="sqlite://:memory:", secret_key_file=tmp_path / "k")
    assert settings.secret_key == "from-the-environment" and settings.https_only
    assert not (tmp_path / "k").exists()
