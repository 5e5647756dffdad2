# Shop — every command installs what it needs first (from requirements/lock.txt).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: install run test lint format migrate bench lock clean

$(STAMP): requirements/lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)  ## Create .venv and install the locked dependencies

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: migrate  ## Set up and start HTTP + WebSocket on :8000 (+ Celery worker and beat when REDIS_URL is set)
	$(BIN)/python manage.py bootstrap_admin
	@if $(BIN)/python manage.py help seed_demo >/dev/null 2>&1; then $(BIN)/python manage.py seed_demo --if-empty; fi
	@if [ -n "$$REDIS_URL" ]; then \
		exec $(BIN)/honcho -f Procfile.dev.full start; \
	else \
		echo "REDIS_URL not set: tasks run inline, no worker/beat needed."; \
		exec $(BIN)/honcho -f Procfile.dev start; \
	fi

test: install  ## Run the suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: install  ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install  ## Production-topology benchmarks (make bench ONLY=foundation DURATION=5); results in bench/results/
	$(BIN)/python bench/run.py $(if $(ONLY),--only "$(ONLY)") $(if $(DURATION),--duration $(DURATION)) $(BENCH_ARGS)

lock:  ## Re-resolve requirements/lock.txt from pyproject.toml
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements/lock.txt

clean:
	rm -rf $(VENV) var/*.sqlite3
