# Chronicle: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DATA_DIR ?= ./data
export DATA_DIR

.PHONY: install lock relock run demo migrate test test-sqlite test-postgres lint lint-api typecheck openapi audit fuzz load bench clean

# The supported interpreters are pyproject.toml's requires-python; an older one stops here, clearly.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0) if sys.version_info >= (3, 11) else sys.exit("Chronicle needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0] + ". Run with PYTHON=python3.11 (or newer).")'
	$(PYTHON) -m venv $(VENV)

# Exactly the lock (requirements/, hashes checked): uv is bootstrapped from its own hashed pin,
# then `uv pip sync` makes the venv equal to the lock, then the project itself without deps.
# Re-runs only when a lock file changed since the last install.
LOCKS := requirements/uv.txt requirements/dev.txt
$(BIN)/uv: requirements/uv.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/uv.txt
	touch $@

$(VENV)/.installed: $(LOCKS) $(BIN)/uv
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes $(LOCKS)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $@

# Regenerate the lock from pyproject.toml: `make lock` upgrades everything within its ranges;
# `make relock` keeps today's pins where they still fit (after adding or narrowing a dependency).
# Either is a deliberate commit that runs the whole suite (`make test`).
lock: $(BIN)/uv
	$(BIN)/python requirements/lock.py --uv $(BIN)/uv --upgrade

relock: $(BIN)/uv
	$(BIN)/python requirements/lock.py --uv $(BIN)/uv

# Tools the tests call as an officer would (pdftotext, pdfsig, openssl, sha256sum) and the PDF font.
# Chromium drives the share viewer's browser test (Playwright with Debian's browser, never a download).
SYSTEM_TOOLS := /usr/bin/pdftotext /usr/bin/pdfsig /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
	/usr/bin/chromium
$(SYSTEM_TOOLS):
	apt-get update -qq && apt-get install -y -qq poppler-utils fonts-dejavu-core openssl chromium \
		>/dev/null

install: $(VENV)/.installed | $(SYSTEM_TOOLS)

migrate: install
	$(BIN)/alembic upgrade head

# On PostgreSQL, WEB_CONCURRENCY workers (the database arbitrates between them: chain heads are
# row locks). The default stays 1 until several workers measure faster than one (docs/deploy.md:
# the only figure so far is a collapse on a loaded machine). SQLite keeps one: its single writer
# gains nothing from more processes. The app is built once first, so that the
# development key ring and signing keys exist before several workers would race to create them.
WEB_CONCURRENCY ?= 1
ON_POSTGRES := $(findstring postgresql,$(DATABASE_URL))
WORKERS := $(if $(ON_POSTGRES),$(WEB_CONCURRENCY),1)
run: migrate
	$(if $(filter-out 1,$(WORKERS)),$(BIN)/python -c 'from app.main import create_app; create_app()')
	$(BIN)/uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT) --no-access-log --no-proxy-headers --workers $(WORKERS)

# A fictional diary loaded into the server `make run` started, and what an officer gets from it.
demo: install
	$(BIN)/python -m app.demo --url http://$(HOST):$(PORT)

lint: install
	$(BIN)/ruff check app tests bench migrations requirements
	$(BIN)/ruff format --check app tests bench migrations requirements

typecheck: install
	$(BIN)/mypy

openapi: install
	$(BIN)/python -m app.cli openapi > openapi/openapi.json

# Spectral (spectral:oas, .spectral.yaml) over the committed spec: 0 errors and 0 warnings.
# npm ci from tools/spectral/'s lock into .npm-tools/ (gitignored), never a global install;
# --ignore-scripts: nothing of it needs an install script (one would only send telemetry).
NPM_TOOLS := .npm-tools
$(NPM_TOOLS)/.installed: tools/spectral/package.json tools/spectral/package-lock.json
	mkdir -p $(NPM_TOOLS)
	cp tools/spectral/package.json tools/spectral/package-lock.json $(NPM_TOOLS)/
	cd $(NPM_TOOLS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

lint-api: $(NPM_TOOLS)/.installed
	$(NPM_TOOLS)/node_modules/.bin/spectral lint openapi/openapi.json --ruleset .spectral.yaml \
	  --fail-severity=warn

# The suite runs twice: on SQLite, then on PostgreSQL (TEST_DATABASE_URL, default the local server).
TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
test: lint typecheck test-sqlite test-postgres

test-sqlite: install
	$(BIN)/pytest -p no:cacheprovider

test-postgres: install
	TEST_DATABASE_URL=$(TEST_PG_URL) $(BIN)/pytest -p no:cacheprovider

# Known vulnerabilities in the installed packages (PyPI's advisory feed). --strict: a package
# that could not be checked fails the run; without it pip-audit skips it and still says "No known
# vulnerabilities found", which is how a blocked feed would pass unnoticed.
audit: install
	@$(BIN)/pip-audit --strict --skip-editable --progress-spinner off || { \
	  echo "" >&2; \
	  echo "*** DEPENDENCY AUDIT FAILED: a known vulnerability, or packages that could not be" >&2; \
	  echo "*** checked because the advisory service (pypi.org/pypi/NAME/VERSION/json) is" >&2; \
	  echo "*** unreachable. Nothing was audited; this is not a pass." >&2; \
	  exit 1; }

# The contract fuzzer with many more examples per operation than `make test` runs (minutes).
FUZZ_MAX_EXAMPLES ?= 100
FUZZ_CROSS_EXAMPLES ?= 25
fuzz: install
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_CROSS_EXAMPLES=$(FUZZ_CROSS_EXAMPLES) \
	  $(BIN)/pytest -p no:cacheprovider -q tests/fuzz
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_CROSS_EXAMPLES=$(FUZZ_CROSS_EXAMPLES) \
	  TEST_DATABASE_URL=$(TEST_PG_URL) $(BIN)/pytest -p no:cacheprovider -q tests/fuzz

# A bounded mixed load (LOAD_SECONDS, default 60) on several workers on PostgreSQL, then every
# chain and every acknowledged write verified. Loopback only.
load: install
	LOAD_PG_URL=$(TEST_PG_URL) $(BIN)/python -m bench.load

bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
