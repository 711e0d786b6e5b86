# The quick start is two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Parallel test processes (pytest-xdist), each with its own test database: `make test TEST_WORKERS=1`
# runs them in one process.
TEST_WORKERS ?= auto

.PHONY: demo test lint ci install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	RAPPORT_MODE=demo $(BIN)/rapport demo

# Bytecode is written even where PYTHONDONTWRITEBYTECODE is set: otherwise every worker (and every
# subprocess a test starts) compiles the whole project and pytest rewrites every test module again.
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

lint: $(STAMP)
	@mkdir -p var
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	RAPPORT_MODE=test $(BIN)/python manage.py makemigrations --check --dry-run

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var build *.egg-info
