# Two commands matter: `make demo` and `make test`. Both build the virtualenv themselves from
# uv.lock with bytecode compiled (this matters: without .pyc every airflow/dbt/gx process starts
# 2-3x slower), using only the system's python3.
PYTHON ?= python3
VENV := .venv
UVENV := .uv
UV := $(UVENV)/bin/uv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced
export UV_COMPILE_BYTECODE := 1
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_LINK_MODE := copy

.PHONY: help venv demo test test-external stop airflow lint format bench clean distclean

help:
	@echo "make demo   - set up, start the embedded warehouse and run the main job"
	@echo "make test   - set up and run the test suite (real Postgres, Airflow, dbt, GX)"
	@echo "make stop   - stop the embedded warehouse"
	@echo "make airflow - Airflow UI (standalone, 127.0.0.1:8080)"
	@echo "make lint | bench | clean"

$(UV):
	$(PYTHON) -m venv $(UVENV)
	$(UVENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/grid-appeals demo

test: venv
	$(BIN)/python -m pytest -q

stop:
	@if [ -x $(BIN)/grid-appeals ]; then $(BIN)/grid-appeals warehouse stop; else echo "nothing to stop"; fi

airflow: venv
	$(BIN)/grid-appeals warehouse start
	$(BIN)/grid-appeals warehouse bootstrap
	$(BIN)/grid-appeals airflow standalone

lint: venv
	$(BIN)/ruff check plugins dags tests bench
	$(BIN)/ruff format --check plugins dags tests bench || true

bench: venv
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache .ruff_cache

distclean: stop clean
	rm -rf $(VENV) $(UVENV) var
