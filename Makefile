# ansinh — two commands: `make demo` and `make test` (see README.md).
PY ?= python3
PORT ?= 8000
HOST ?= 127.0.0.1
PG_URL ?= postgresql://postgres@127.0.0.1:5432
VENV := .venv
BIN := $(VENV)/bin
UV = $$(command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: install demo test lint test-sqlite test-postgres bench bench-full messages clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || [ -x .tools/bin/uv ] || { $(PY) -m venv .tools && .tools/bin/pip install -q "uv==0.13.9"; }
	UV_PYTHON=$(PY) $(UV) sync --frozen --quiet
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=.tools -v 0 2>/dev/null || true
	@touch $@

demo: install
	$(BIN)/ansinh demo --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy ansinh config
	$(BIN)/lint-imports
	ANSINH_HOME=$$(mktemp -d) $(BIN)/python manage.py makemigrations --check --dry-run

# pytest exits 5 when it collects nothing; that is a failure of ours, never a pass.
test-sqlite: install
	ANSINH_HOME=$$(mktemp -d) $(BIN)/pytest

test-postgres: install
	db=ansinh_ci_$$$$; ANSINH_HOME=$$(mktemp -d) ANSINH_DATABASE_URL=$(PG_URL)/$$db $(BIN)/pytest -m "not browser"

test: lint test-sqlite test-postgres

# issue 22: ordered and messy files, SQLite and PostgreSQL, beside DuckDB (scale 0.1, ~15 min;
# BENCH_SCALE=1.0 for the province, BENCH_PROFILE=1 for profiles: see bench/issue22.py)
bench: install
	$(BIN)/python bench/issue22.py

# issue 8's bench: kpi latency, web load, reports too (scales 1.0 and 2.0, about an hour)
bench-full: install
	$(BIN)/python bench/run.py

messages: install
	cd ansinh && ../$(BIN)/django-admin makemessages -l en --no-obsolete && ../$(BIN)/django-admin compilemessages

clean:
	rm -rf .ansinh .mypy_cache .ruff_cache
