# Two commands on a fresh clone: `make demo` and `make test`. Both create .venv and install
# the pinned dependencies (requirements.lock) first.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/var/prefect

.PHONY: install demo lint test test-postgres migration bench lock clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "srdi needs Python 3.11, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*; touch $@

demo: install
	mkdir -p "$(PREFECT_HOME)"
	$(BIN)/srdi demo

# Style (ruff, rules in pyproject.toml) and the layer contract (import-linter): nothing imports upward.
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: install lint
	mkdir -p "$(PREFECT_HOME)"
	$(BIN)/python -m pytest -q

# The storage tests again on PostgreSQL; SRDI_TEST_POSTGRES_URL names a server whose user may
# create databases (.ci/run starts a throw-away one), e.g. postgresql://postgres@127.0.0.1:5432/postgres
test-postgres: install
	@test -n "$$SRDI_TEST_POSTGRES_URL" || { echo "make test-postgres: set SRDI_TEST_POSTGRES_URL=postgresql://USER@HOST:PORT/DB" >&2; exit 2; }
	$(BIN)/python -m pytest -q -m postgres

# Pre-release: rewrite migrations/versions/0001_initial.py from the current models (deterministic;
# includes the transition log's triggers). Run after changing any table, then commit the result.
migration: install
	$(BIN)/srdi db regenerate-initial

bench: install
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

# Re-resolve the pins (run after changing dependencies in pyproject.toml). Every line must be a
# registry pin (name==version): a path, file:, URL, "name @ …" direct reference or -e line would
# install only on the machine that wrote it, so the freeze is refused whole, naming the lines.
NOT_A_REGISTRY_PIN := ^[[:space:]]*(-e|--editable)|://|[[:space:]]@[[:space:]]|file:|^[[:space:]]*[./~]|\\|\.(whl|zip|tar\.gz)([[:space:]\#;]|$$)
lock:
	rm -rf /tmp/srdi-lock && $(PYTHON) -m venv /tmp/srdi-lock
	/tmp/srdi-lock/bin/pip install --quiet --upgrade pip && /tmp/srdi-lock/bin/pip install --quiet -e '.[test]'
	/tmp/srdi-lock/bin/pip freeze --exclude-editable | grep -v '^srdi' > /tmp/srdi-lock/requirements.lock
	@if grep -nE '$(NOT_A_REGISTRY_PIN)' /tmp/srdi-lock/requirements.lock >&2; then \
	    echo "make lock: the lines above are not registry pins (path, file:, URL, @ direct reference or -e);" \
	         "install those packages from the package index and run make lock again. requirements.lock is unchanged." >&2; \
	    exit 1; \
	fi
	cp /tmp/srdi-lock/requirements.lock requirements.lock

clean:
	rm -rf $(VENV) var
