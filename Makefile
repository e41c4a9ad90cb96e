# The two commands of the README: `make dashboard` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB := warehouse/demo.duckdb
DEMO_USERS := warehouse/users.json
SAMPLE := data_samples/clean

.PHONY: install dashboard replicas demo-data browser-deps nginx-deps postgres-deps lint format test test-fast clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo-data: $(STAMP)
	mkdir -p warehouse
	$(BIN)/itb-audit load $(SAMPLE) --db $(DEMO_DB) --site main

# The first run creates one demo user per role and prints their generated passwords, once.
dashboard: demo-data
	$(BIN)/itb-audit users demo --users-file $(DEMO_USERS)
	ITB_AUDIT_DB=$(DEMO_DB) ITB_AUDIT_USERS=$(DEMO_USERS) $(BIN)/streamlit run dashboard/app.py --server.headless true

# The dashboard as two replicas behind nginx on the demo warehouse (docs/deploy.md), nginx on
# 127.0.0.1:8080 unless REPLICAS_PORT says otherwise; REPLICAS_DB=ADDRESS for another warehouse
# (a lake: its password in PGPASSWORD). Ctrl-C stops them all.
REPLICAS_PORT ?= 8080
REPLICAS_DB ?= $(DEMO_DB)
replicas: demo-data nginx-deps
	$(BIN)/itb-audit users demo --users-file $(DEMO_USERS)
	$(BIN)/python -m pipelines.replicas --db '$(REPLICAS_DB)' --users $(DEMO_USERS) --port $(REPLICAS_PORT)

# The browser tests drive Debian's chromium through Playwright (`playwright install` would
# download its own browser); install it when it is missing. They inject axe-core (pinned in
# tests/browser/package-lock.json) into every page: `npm ci` installs exactly that version.
AXE := tests/browser/node_modules/axe-core/axe.min.js

browser-deps: $(AXE) nginx-deps
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

# The replicas test (and `make replicas`) run Debian's nginx as no system service: its own
# configuration, pid and logs in a temporary folder.
nginx-deps:
	test -x /usr/sbin/nginx || (apt-get update && apt-get install -y nginx)

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --prefer-offline
	touch $(AXE)

# The lake tests (-m lake) start a throwaway PostgreSQL from Debian's package (tests/fixtures/
# postgres.py); install it when it is missing.
postgres-deps:
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update && apt-get install -y postgresql)

# ruff (lint and format), mypy on pipelines/ and sqlfluff on queries/: `make test` runs it too.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sqlfluff lint queries

# Rewrite what ruff and sqlfluff can mend by themselves.
format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix queries

# The whole suite, slow and browser tests included (this is what .ci/run calls), with the lint
# alongside, in the cores' idle time (a lint failure fails the run too). Four workers on CI's 2
# cores: with two, the cores idled 40% of the run while browser, replica and lake tests waited
# on their servers and subprocesses (docs/performance.md, The test suite).
test: $(STAMP) browser-deps postgres-deps
	log=$$(mktemp); $(MAKE) --no-print-directory lint > $$log 2>&1 & lint=$$!; \
	$(BIN)/python -m pytest -m "" -n 4 -q; tests=$$?; \
	wait $$lint; linted=$$?; cat $$log; rm -f $$log; \
	test $$linted -eq 0 || echo "make lint failed"; \
	test $$tests -eq 0 && test $$linted -eq 0

# Fast tests only, for the edit-test loop.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

clean:
	rm -rf $(VENV) warehouse tests/browser/node_modules
