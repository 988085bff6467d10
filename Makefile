# warroom: `make run` starts it, `make test` passes the tests; both set everything up first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOME_DIR ?= var
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: run test check lint format typecheck contracts docs bench demo demo-serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: set up, create var/ (config, example catalog, SQLite database) and start the server
run: $(STAMP)
	@mkdir -p $(HOME_DIR)
	@cd $(HOME_DIR) && ( [ -f warroom.toml ] || ../$(BIN)/warroom init )
	cd $(HOME_DIR) && ../$(BIN)/warroom serve --host $(HOST) --port $(PORT)

DEMO_DB ?= sqlite:///demo.db
DEMO_PORT ?= 8081

## demo: play the scripted incident in the terminal, into its own database (var/demo.db)
demo: $(STAMP)
	@mkdir -p $(HOME_DIR)
	@cd $(HOME_DIR) && ( [ -f warroom.toml ] || ../$(BIN)/warroom init )
	cd $(HOME_DIR) && WARROOM_DATABASE_URL=$(DEMO_DB) ../$(BIN)/warroom demo

## demo-serve: a server on the demo database (after make demo), apart from the real one
demo-serve: $(STAMP)
	@mkdir -p $(HOME_DIR)
	@cd $(HOME_DIR) && ( [ -f warroom.toml ] || ../$(BIN)/warroom init )
	cd $(HOME_DIR) && WARROOM_DATABASE_URL=$(DEMO_DB) ../$(BIN)/warroom serve --host $(HOST) --port $(DEMO_PORT)

## test: set up and run the whole test suite
test: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider

## check: format check, lint, types, import contracts, docs up to date, tests
check: lint typecheck contracts docs-check test

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

## docs: regenerate docs/cli.md and docs/configuration.md from the code
docs: $(STAMP)
	$(BIN)/python -m warroom.docgen write

docs-check: $(STAMP)
	$(BIN)/python -m warroom.docgen check

## bench: run every benchmark under bench/ and print the figures
bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
