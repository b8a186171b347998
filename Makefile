# Two commands matter: `make run` (demo on SQLite + filesystem broker) and `make test`
# (ruff + the whole suite on real PostgreSQL and Redis). Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test venv assets messages makemessages migrate demo lint format browser-test bench clean

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

venv: $(VENV)/.installed

# htmx comes from npm at install time and is served by Django: nothing from a CDN at run time.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

assets: node_modules/.installed

messages: venv
	$(MANAGE) compilemessages --ignore=.venv --ignore=node_modules -v 0

makemessages: venv
	$(MANAGE) makemessages -l zh_Hans --ignore=.venv --ignore=node_modules --ignore=var \
	    --no-obsolete --no-location

migrate: venv
	$(MANAGE) migrate --no-input

demo: migrate
	$(MANAGE) seed_demo --if-empty

run: venv assets messages migrate demo
	@echo ""
	@echo "  招商引资管理平台 is starting at http://127.0.0.1:8000"
	@echo "  Demo logins (password demo-2026): admin, zhang.wei (招商专员), wang.jing (园区管理员),"
	@echo "  sun.jianguo (领导), zhao.min (资金审核员). Emails land in var/mail/."
	@echo "  Ctrl-C stops the web server, the Celery worker and Celery beat together."
	@echo ""
	@# Ctrl-C is how the demo stops: honcho then exits 130, which is not an error.
	$(VENV)/bin/honcho -f Procfile.dev start || test $$? -eq 130

test: venv assets messages
	$(VENV)/bin/ruff check .
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	$(PY) -m pytest $(PYTEST_ARGS)

browser-test: venv assets messages
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	$(PY) -m pytest -m browser $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

format: venv
	$(VENV)/bin/ruff format .

# Benchmarks at scale on PostgreSQL (not part of the test suite): see bench/README.md.
BENCH_SCALE ?= 100
bench: venv assets messages
	$(PY) -m pip install --quiet -r bench/requirements.txt
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/crm_bench} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/9} \
	$(PY) bench/run.py --scale $(BENCH_SCALE) $(BENCH_ARGS)

# Backups on PostgreSQL (README "Backups"; crm/core/backups.py): one archive per run holding the
# pg_dump custom-format dump, the uploaded documents and a manifest the restore verifies.
# DATABASE_URL and RESTORE_DATABASE_URL reach manage.py through the environment (make exports
# command-line variables), never on a command line that make echoes or ps shows.
.PHONY: backup restore
backup: venv
	$(MANAGE) backup $(if $(BACKUP_DIR),--dir "$(BACKUP_DIR)")

restore: venv
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=var/backups/crm-YYYYmmdd-HHMMSS.tar \
	[RESTORE_DATABASE_URL=postgres://...] [RESTORE_MEDIA_ROOT=dir] [FORCE=1]" >&2; exit 2; }
	$(MANAGE) restore "$(BACKUP)" $(if $(RESTORE_MEDIA_ROOT),--media-root "$(RESTORE_MEDIA_ROOT)") \
	    $(if $(filter 1 yes true,$(FORCE)),--force)

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
