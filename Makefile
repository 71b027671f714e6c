# plumbob: `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench services stop-services clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/plumbob scan --demo --report-json plumbob-report.json

services: $(STAMP)
	bash tests/services/start.sh

stop-services:
	bash tests/services/stop.sh

# the services start.sh started are stopped again whatever pytest's outcome
test: $(STAMP) services
	$(PY) -m pytest; status=$$?; bash tests/services/stop.sh; exit $$status

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache plumbob-report.json .bench
