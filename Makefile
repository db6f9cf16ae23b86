# yishi — the two commands: `make run` (demo on SQLite) and `make test` (the whole suite).
# DATABASE_URL picks PostgreSQL (postgres://user@host:5432/db); PORT the port of `make run`.

# The first Python 3.11+ on PATH, probed once (`:=`), quietly; PYTHON=… on the command line wins.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && { echo $$p; break; }; done)
endif
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
WORKERS ?= 2
AXE := tests/e2e/node_modules/axe-core/axe.min.js

.PHONY: backup restore run serve test test-fast install install-test lock messages compile migrate demo bench bench-rules lint clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Only pip is needed: the exact versions (and their hashes) come from the lock files, yishi
# itself goes in without dependencies, and `pip check` fails if the lock no longer meets
# pyproject.toml (a pin moved without `make lock`).
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps .
	$(BIN)/pip check
	@touch $@

$(VENV)/.installed-test: pyproject.toml requirements-test.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.lock
	$(BIN)/pip install --quiet --no-deps .
	$(BIN)/pip check
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(AXE)

# axe-core (the accessibility checks of the browser tests), the version tests/e2e/package-lock.json
# names, when npm is there; without it tests/e2e/test_phone_layout.py says it skipped them.
$(AXE): tests/e2e/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/e2e --no-audit --no-fund --silent \
		&& touch $@; else echo "npm not found: axe-core not installed (the axe checks will skip)"; fi

# Remake requirements-test.lock and requirements.lock from pyproject.toml with uv (installed
# under .venv/tools), keeping the versions they name; `make lock UPGRADE=1` takes the newest
# versions pyproject.toml allows.
UV := $(VENV)/tools/bin/uv
LOCK_FLAGS = --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)

$(UV): | $(BIN)/python
	$(BIN)/pip install --quiet --target $(VENV)/tools uv==0.13.9

lock: | $(UV)
	$(UV) pip compile pyproject.toml --extra test $(LOCK_FLAGS) -o requirements-test.lock
	$(UV) pip compile pyproject.toml -c requirements-test.lock $(LOCK_FLAGS) -o requirements.lock

# Compiled catalogs (.mo) are build products, made from the .po files under locales/.
compile: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d locales -D messages --statistics 2>&1 | tail -n 2

# Re-extract the strings after changing templates or code, then translate locales/*/messages.po.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F pyproject.toml -k _l -k lazy_gettext -o locales/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete

migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate

demo: migrate
	$(BIN)/python manage.py demo

run: compile demo
	$(BIN)/python manage.py logins
	@echo "yishi is at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	@if [ "$(HOST)" = 0.0.0.0 ]; then for a in $$(hostname -I 2>/dev/null); do \
		case $$a in *:*) ;; *) echo "  on a phone in the same network: http://$$a:$(PORT)/";; esac; done; fi
	$(BIN)/uvicorn app:create_app --factory --host $(HOST) --port $(PORT) --proxy-headers \
		--no-access-log

# Production: migrate, then serve WORKERS processes (no demo data). Set DATABASE_URL,
# SECRET_KEY and HTTPS_ONLY=1; behind a reverse proxy on another host, FORWARDED_ALLOW_IPS.
# yishi logs each request as a JSON line on stderr (LOG_LEVEL=warning: failures only), so
# uvicorn's own access log (with query strings) is off.
serve: compile migrate
	$(BIN)/uvicorn app:create_app --factory --host $(HOST) --port $(PORT) \
		--workers $(WORKERS) --proxy-headers --no-server-header --no-access-log

# A backup of the database (DATABASE_URL, else the embedded one) and the uploads, as
# data/backups/yishi-<time>.tar.gz (BACKUP_DIR to put it elsewhere); `make restore FILE=…`
# puts one back (stop the server first; FORCE=1 over a database that has accounts).
backup: $(VENV)/.installed
	$(BIN)/python manage.py backup $(BACKUP_DIR)

restore: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "make restore FILE=data/backups/yishi-….tar.gz"; exit 2; }
	$(BIN)/python manage.py restore "$(FILE)" $(if $(FORCE),--force)

test: install-test compile
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# For local iteration: the suite without the slow tests and the browser (make test runs all).
test-fast: install-test compile
	$(BIN)/python -m pytest -m "not slow and not e2e" $(PYTEST_ARGS)

# The app benchmark (tests/bench/bench_app.py): a district-sized round and ten finished rounds
# of money, every figure beside a trivial route's in the same run. The load comes from wrk, a
# separate compiled program (Debian: `apt-get install wrk`; without it the bench says so and
# stops). BENCH_ARGS: --small (a smoke run), --only district|money, --explain (query plans),
# --workers N (or WORKERS=N: uvicorn processes) or --workers 1,2 (how it scales; on PostgreSQL).
# Then consultation (tests/bench/bench_consult.py): a 10,000-comment thread, common ground of
# 2,000 voters, 64 residents voting on statements at once; and needs (tests/bench/bench_needs.py):
# 200,000 needs over three years, the public dashboard, /needs/stats.csv, the overdue list;
# and imports (tests/bench/bench_imports.py): a hostile .pb refused, Łódź 2022 imported, its
# rule comparison counted then kept.
bench: install-test compile
	$(BIN)/python -m tests.bench.bench_app $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_consult $(filter --small --explain,$(BENCH_ARGS))
	$(BIN)/python -m tests.bench.bench_needs $(filter --small --explain,$(BENCH_ARGS))
	$(BIN)/python -m tests.bench.bench_imports

bench-rules: install-test
	$(BIN)/python -m tests.bench.bench_rules

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) data/yishi.sqlite3 .pytest_cache
