# Two commands from a fresh clone: `make run` (demo on SQLite, console chat) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint format serve bench chaos clean

$(PY):
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	@echo "installing the bot into $(VENV) ..." >&2
	@$(PY) -m pip install -q -e . >&2
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	@echo "installing the bot and its test tools into $(VENV) ..." >&2
	@$(PY) -m pip install -q -e '.[dev]' >&2
	@touch $(VENV)/.installed $@

# A local development key for the keyed hashes; git-ignored, never use it in production.
.eap-dev-key: | $(PY)
	@$(PY) -c "import secrets; print(secrets.token_urlsafe(32))" > $@
	@chmod 600 $@

run: $(VENV)/.installed .eap-dev-key
	@$(PY) bot.py migrate >&2
	@$(PY) bot.py seed-demo >&2
	@$(PY) bot.py chat

serve: $(VENV)/.installed .eap-dev-key
	@$(PY) bot.py migrate
	@$(PY) bot.py serve

test: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

# Benchmarks are their own target (about half an hour, not part of make test); one table at the
# end and bench-results.json. Smoke pass: make bench BENCH_ARGS=--quick
BENCH_ARGS ?=
bench: $(VENV)/.installed-dev
	$(PY) -m bench $(BENCH_ARGS)

# Chaos against the real `serve` process (several minutes): platform faults, SIGKILLs, a
# PostgreSQL outage on a private throwaway cluster, duplicates. Short runs: CHAOS_ARGS=--quick
chaos: $(VENV)/.installed-dev
	$(PY) -m chaos $(CHAOS_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) eap.db eap.db-wal eap.db-shm .pytest_cache *.egg-info
