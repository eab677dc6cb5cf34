# The two commands a newcomer needs:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/tucai

.PHONY: run demo test test-sqlite test-postgres system-deps venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

# Chromium (browser tests), a CJK font (PDFs, screenshots) and pdftoppm, from Debian's packages.
system-deps:
	@sh scripts/system-deps.sh

run: venv
	$(BIN)/tucai run

demo: venv
	$(BIN)/tucai migrate --no-input && $(BIN)/tucai demo

# SQLite always; PostgreSQL too when TUCAI_TEST_POSTGRES=1 (CI sets it) or via `make test-postgres`.
test: venv system-deps
	TUCAI_DB_CONN_MAX_AGE=0 $(BIN)/pytest $(PYTEST_ARGS)
	@if [ "$${TUCAI_TEST_POSTGRES:-0}" = "1" ]; then $(MAKE) --no-print-directory test-postgres; fi

test-postgres: venv
	TUCAI_DB_CONN_MAX_AGE=0 TUCAI_DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
