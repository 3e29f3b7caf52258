# PBQMS — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/pbqms
PYTEST_ARGS ?= -n 2  # two workers: the suite runs twice (SQLite, PostgreSQL) and CI must stay well under 30 min

.PHONY: install demo test test-sqlite test-postgres test-browser-check lint bench bench-rectification bench-activities bench-documents bench-objectives bench-assessment messages clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Build the demo organisation on SQLite and serve it on http://127.0.0.1:8000
demo: install
	$(BIN)/pbqms demo

## Every test, on SQLite and on PostgreSQL: the two suites run side by side (each with two workers),
## which on two cores takes about as long as the slower one alone (their progress lines interleave;
## each ends with its own summary)
test: install test-browser-check lint
	$(MAKE) --no-print-directory -j2 test-sqlite test-postgres

test-browser-check:
	@if [ ! -x "$${PBQMS_CHROMIUM:-/usr/bin/chromium}" ]; then \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!!! NO CHROMIUM at $${PBQMS_CHROMIUM:-/usr/bin/chromium}: BROWSER TESTS WILL BE SKIPPED  !!!"; \
	  echo "!!! install it with: apt-get install chromium                                       !!!"; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/pbqms makemigrations --check --dry-run > /dev/null
	$(BIN)/mypy

test-sqlite: install
	DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install
	DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmarks on PostgreSQL at --scale 50000 (about 1.5 million members)
bench: install
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/pbqms_bench} $(BIN)/python bench/run.py $(BENCH_ARGS)

## The second wave's benchmarks (each builds or reuses its data; see the docstrings)
bench-rectification bench-activities: install
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/pbqms_bench} $(BIN)/python bench/$(@:bench-%=%).py $(BENCH_ARGS)
bench-documents: install
	$(BIN)/python bench/documents.py $(BENCH_ARGS)
bench-objectives: install
	$(BIN)/python bench/objectives.py $(BENCH_ARGS)
bench-assessment: install
	$(BIN)/python bench/assessment.py $(BENCH_ARGS)

## Rebuild the translation catalogues (needs GNU gettext)
messages: install
	cd pbqms && ../$(BIN)/pbqms makemessages -l zh_Hans -l en --no-obsolete && ../$(BIN)/pbqms compilemessages

clean:
	rm -rf $(VENV) var build *.egg-info
