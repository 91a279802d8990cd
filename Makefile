# Needs nothing but Python 3.11 and make: the first target that runs creates .venv.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench stress clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found: install it or run make PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@if $(BIN)/centra-pipeline --help | grep -q '^  demo '; then \
		$(BIN)/centra-pipeline demo; \
	else \
		echo "centra-pipeline demo: not yet built (see the [watch-demo] issue)."; \
		echo "Meanwhile: $(BIN)/centra-pipeline --help"; \
	fi

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check pipeline tests benchmarks
	$(BIN)/ruff format --check pipeline tests benchmarks
	$(BIN)/mypy

stress: $(STAMP)
	STRESS_KILLS=200 $(BIN)/python -m pytest -q -s tests/reliability/test_random_crash.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
