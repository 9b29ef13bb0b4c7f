# Two commands: `make up` runs the PBX with its console; `make test` runs the whole test suite.
# Both set up what they need first (Python venv, Debian packages when root, the local Asterisk).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Test workers: integration tests mostly wait on SIP timers, so more workers than cores pays off.
JOBS   ?= 4
# Benchmark options, e.g. `make bench BENCH_ARGS="--calls 10 --rounds 1"` for a quick run.
BENCH_ARGS ?=
APT    := DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0

.PHONY: up down test test-postgres unit bench bench-events lint system-deps venv asterisk clean

up: system-deps venv asterisk
	$(BIN)/pbx up

down: venv
	$(BIN)/pbx down

test: system-deps venv asterisk
	$(BIN)/python -m pytest -ra -n $(JOBS)

# The database-backed tests again, on a real PostgreSQL (installed and started when missing).
test-postgres: venv
	scripts/test-postgres.sh

unit: venv
	$(BIN)/python -m pytest -ra tests/unit tests/console

bench: system-deps venv asterisk
	$(BIN)/python -m bench.call_setup $(BENCH_ARGS)

# Event latency: a domain event's time to a websocket client and to a webhook receiver.
bench-events: system-deps venv asterisk
	$(BIN)/python -m bench.webhook_latency $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core
	$(BIN)/lint-imports

# Debian packages: python3-venv (to build the venv), sip-tester (sipp, for tests and bench).
system-deps:
	@missing=""; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	command -v sipp >/dev/null || missing="$$missing sip-tester"; \
	command -v dpkg-deb >/dev/null || missing="$$missing dpkg"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing:$$missing"; $(APT) update >/dev/null && $(APT) install $$missing >/dev/null; \
	  else echo "please run: sudo apt-get install$$missing"; exit 1; fi; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,postgres]'
	touch $@

# Installs Asterisk once (a system Asterisk >= 20, else Debian sid's unpacked under the data dir).
asterisk: venv
	$(BIN)/pbx asterisk install

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
