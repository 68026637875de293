# driftwarden: `make demo` and `make test` set everything up from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
# Debian's prometheus and alertmanager, unpacked (no service started, no root needed to run).
PROM_BIN := $(TOOLS)/root/usr/bin
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/$(PROM_BIN):$(PATH)
export MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT := true
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true

.PHONY: all venv tools chromium postgresql demo test pytest test-fast test-explore lint typecheck bench clean

all: test

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch is an optional extra pinned to the CPU build that lies on disk (see README).
	$(BIN)/pip install -q --no-compile -e '.[dev,torch]'
	# pip byte-compiles on one core (85 of its 130 s here); compileall uses every core and
	# skips the packages' own test suites. A file written for a newer Python fails to
	# compile here, as under pip, and is skipped (torch ships one).
	$(BIN)/python -m compileall -q -j 0 -x '/tests?/' "$$($(BIN)/python -c \
	  'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null || true
	touch $@

venv: $(BIN)/.installed

$(PROM_BIN)/promtool:
	command -v apt-get >/dev/null || { echo "apt-get not found: install prometheus and prometheus-alertmanager by hand" >&2; exit 2; }
	mkdir -p $(TOOLS)/debs $(TOOLS)/root
	cd $(TOOLS)/debs && { apt-get download prometheus prometheus-alertmanager 2>/dev/null \
	  || { apt-get update -qq && apt-get download prometheus prometheus-alertmanager; }; }
	for deb in $(TOOLS)/debs/*.deb; do dpkg-deb -x $$deb $(TOOLS)/root; done
	test -x $(PROM_BIN)/promtool && test -x $(PROM_BIN)/prometheus
	# Debian's alertmanager loads its templates from this compiled-in path; as root, put them
	# there (tests/support/prom_tools.py has a no-root fallback).
	if [ "$$(id -u)" = 0 ] && [ ! -e /usr/share/prometheus/alertmanager/default.tmpl ]; then \
	  mkdir -p /usr/share/prometheus/alertmanager && \
	  cp -r $(TOOLS)/root/usr/share/prometheus/alertmanager/. /usr/share/prometheus/alertmanager/; fi
	touch $@

# Debian's chromium, for the test that opens the HTML drift report in a headless browser.
# Installing needs root; without it, say how (the test skips, and fails under CI=1).
chromium:
	@if command -v chromium >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "chromium not found: as root run 'apt-get update && apt-get install -y --no-install-recommends chromium'" >&2; \
	  exit 0; fi; \
	command -v apt-get >/dev/null || { echo "apt-get not found: install chromium by hand" >&2; exit 2; }; \
	apt-get install -y -qq --no-install-recommends chromium >/dev/null \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; \
	command -v chromium >/dev/null

# Debian's PostgreSQL server binaries, for the tests that start a throw-away cluster with
# initdb + pg_ctl as an unprivileged user (tests/support/postgres.py). Only the package is
# needed: no system service is started or used. (On a host where systemd runs, apt starts
# Debian's own "main" cluster; the tests never touch it: `systemctl disable --now postgresql`.)
# Installing needs root; without it, say how (those tests skip, and fail under CI=1).
postgresql:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "PostgreSQL not found: as root run 'apt-get update && apt-get install -y --no-install-recommends postgresql'" >&2; \
	  exit 0; fi; \
	command -v apt-get >/dev/null || { echo "apt-get not found: install the PostgreSQL server (initdb, pg_ctl) by hand" >&2; exit 2; }; \
	apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null

# One after the other: two apt-get runs at once would fight over the dpkg lock.
tools:
	@$(MAKE) --no-print-directory $(PROM_BIN)/promtool && $(MAKE) --no-print-directory chromium \
	  && $(MAKE) --no-print-directory postgresql

demo: venv
	$(BIN)/driftwarden demo --once

lint: venv
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: venv
	$(BIN)/mypy

# The set-up overlaps what does not compete: pip's downloads and installs beside apt's, then
# (after the half-second lint) mypy, single-threaded and a minute from a cold cache, beside
# the tests, which leave part of a core idle while they wait on processes and servers.
# A failure of either still fails `make test`.
test:
	@$(MAKE) --no-print-directory -j2 venv tools
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory -j2 typecheck pytest

# Three workers on two cores: a test that waits on a process (a server starting, a run's
# timeout, a scrape) leaves its core to the others. Measured on this shared 2-core machine,
# venv in place: back to back, -n 2 11:08 and -n 3 10:33; an earlier pair 10:55 and 9:21;
# -n 4 10:41 (more CPU lost to contention than waits filled).
# loadgroup keeps the tests sharing the session's trained champion on one worker.
pytest: venv
	$(BIN)/python -m pytest -n 3 --dist loadgroup

test-fast: venv
	$(BIN)/python -m pytest -m "not integration and not slow"

# Property tests with random seeds and 20x the examples (CI's profile is derandomized).
# Keep every failing example found as an explicit @example in its test.
test-explore: venv
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest tests/detectors tests/remediation/test_gate.py

bench: venv
	$(BIN)/python benchmarks/drift_bench.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .hypothesis
