# The few commands people type. Everything installs into .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/orgledger/web/static/vendor
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo serve test lint typecheck browser graphviz postgres bench bench-smoke bench-scaling stress load accuracy clean

$(STAMP): pyproject.toml $(VENDOR)/.built
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The chart libraries come from the npm registry, pinned by the committed lockfile,
# and are served from the package's own static files (no CDN).
frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

$(VENDOR)/.built: frontend/node_modules/.package-lock.json
	mkdir -p $(VENDOR)
	cp frontend/node_modules/d3/dist/d3.min.js $(VENDOR)/
	cp frontend/node_modules/d3-flextree/build/d3-flextree.min.js $(VENDOR)/
	cp frontend/node_modules/d3-org-chart/build/d3-org-chart.min.js $(VENDOR)/
	cp frontend/node_modules/d3/LICENSE $(VENDOR)/LICENSE-d3
	cp frontend/node_modules/d3-flextree/LICENSE $(VENDOR)/LICENSE-d3-flextree
	cp frontend/node_modules/d3-org-chart/package.json $(VENDOR)/package-d3-org-chart.json
	touch $@

# The browser tests drive Debian's Chromium (with CJK fonts for Chinese names);
# install them when missing.
browser:
	@test -x $(CHROMIUM) || (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)
	@test -x $(CHROMIUM) || (echo "Chromium is missing and could not be installed" >&2; exit 1)

# `orgledger export snapshot --format svg|png|pdf` runs Debian's Graphviz `dot`
# (with CJK fonts for Chinese names); install them when missing.
graphviz:
	@command -v dot >/dev/null || (apt-get update -qq && apt-get install -y -qq graphviz fonts-noto-cjk >/dev/null)
	@command -v dot >/dev/null || (echo "Graphviz (dot) is missing and could not be installed" >&2; exit 1)

# Every ledger test runs on SQLite and on PostgreSQL: the tests start a throwaway
# cluster from Debian's PostgreSQL server on a free port and remove it afterwards.
PG_INITDB = command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
postgres:
	@$(PG_INITDB) || (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null)
	@$(PG_INITDB) || (echo "PostgreSQL is missing and could not be installed" >&2; exit 1)

demo: $(STAMP)
	$(BIN)/orgledger demo

serve: $(STAMP)
	$(BIN)/orgledger demo --serve

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck browser graphviz postgres
	$(BIN)/pytest -n auto --maxprocesses=4

# Benchmarks print ratios against baselines measured in the same run; they never
# decide whether the tests pass. Results go to benchmarks/results/.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

bench-smoke: $(STAMP)
	$(BIN)/python -m benchmarks.run --smoke

bench-scaling: $(STAMP)
	$(BIN)/python -m benchmarks.scaling

# Eight concurrent writers and twenty killed ones, with counts and throughput.
stress: $(STAMP)
	$(BIN)/python -m benchmarks.stress

# A bounded load run on localhost (30 s of concurrent reads and writes); never a test.
load: $(STAMP)
	$(BIN)/python -m benchmarks.web_load --seconds 30

# Precision and recall of `orgledger extract` over the announcements in tests/announcements.
accuracy: $(STAMP)
	$(BIN)/python -m benchmarks.extraction

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist benchmarks/.cache
	rm -rf frontend/node_modules $(VENDOR)
