# cakupan: `make run` serves the app on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
# Set DEMO=0 for a production set-up without demo data.
DEMO   ?= 1

.PHONY: run test test-postgres bench lint setup clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.stamp-run

run: $(VENV)/.stamp-run
	$(BIN)/cakupan serve --port $(PORT) $(if $(filter 0,$(DEMO)),--no-demo,--demo)

setup: $(VENV)/.stamp-run
	$(BIN)/cakupan setup

# Translations are compiled before pytest starts: Django caches a catalogue at its first use.
test: $(VENV)/.stamp-test
	$(BIN)/python -m cakupan.bootstrap
	$(BIN)/lint-imports --no-cache
	CAKUPAN_VAR=$$(mktemp -d) $(BIN)/cakupan manage makemigrations --check --dry-run
	$(BIN)/pytest -q
	@if [ -n "$$CAKUPAN_TEST_POSTGRES_URL" ]; then \
		echo "== the same suite on PostgreSQL =="; \
		DATABASE_URL="$$CAKUPAN_TEST_POSTGRES_URL" $(BIN)/pytest -q; \
	else echo "CAKUPAN_TEST_POSTGRES_URL not set: PostgreSQL run skipped"; fi

test-postgres: $(VENV)/.stamp-test
	$(BIN)/python -m cakupan.bootstrap
	DATABASE_URL="$${CAKUPAN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}" $(BIN)/pytest -q

$(VENV)/.stamp-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,bench]"
	touch $@ $(VENV)/.stamp-test $(VENV)/.stamp-run

bench: $(VENV)/.stamp-bench
	$(BIN)/python benchmarks/run.py $(BENCH)

# Developers: refresh the Indonesian catalogue after changing UI text (needs gettext's xgettext),
# then fill in the new msgstr lines of src/cakupan/locale/id/LC_MESSAGES/django.po.
messages: $(VENV)/.stamp-run
	cd src/cakupan && ../../$(BIN)/cakupan manage makemessages -l id --no-location --no-obsolete -i 'tests/*' -i 'rules/*'

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) var
