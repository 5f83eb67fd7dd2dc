# The two commands: `make run` (the product, with the demo campaign) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test install install-dev lint types messages lock system-deps clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## run: install, migrate the embedded SQLite database, load the demo, start web + worker
run: install
	mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py demo
	DEBUG=1 $(PY) manage.py runall 127.0.0.1:8000

## test: lint, types, then the whole suite (set DATABASE_URL for PostgreSQL)
test: install-dev system-deps lint types
	mkdir -p var
	$(PY) -m pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: install-dev
	SECRET_KEY=typecheck $(VENV)/bin/mypy

## system-deps: Chromium (browser tests) and gettext (translations), when missing and root
system-deps:
	@bash scripts/system-deps

## messages: extract and compile translations (needs gettext)
messages: install
	DEBUG=1 $(PY) manage.py makemessages -l fr -l en --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

## lock: re-pin requirements*.txt from requirements*.in
lock:
	rm -rf /tmp/suffrage-lock && $(PYTHON) -m venv /tmp/suffrage-lock
	/tmp/suffrage-lock/bin/pip install --quiet -r requirements.in
	(echo "# Locked runtime dependencies (pip freeze of requirements.in). Regenerate: make lock"; /tmp/suffrage-lock/bin/pip freeze) > requirements.txt
	/tmp/suffrage-lock/bin/pip install --quiet -r requirements-dev.in
	(echo "# Locked test dependencies on top of requirements.txt. Regenerate: make lock"; echo "-r requirements.txt"; \
	  /tmp/suffrage-lock/bin/pip freeze | grep -vxFf requirements.txt) > requirements-dev.txt

clean:
	rm -rf $(VENV) var
