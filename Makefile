# Two commands do everything on a fresh machine (see README.md):
#   make demo   the main job: our Graph emulator stands in for Microsoft 365 and calendar data moves through it
#   make test   every test and check: Rust, Python, lints, stubs, and the Odoo tests when ODOO_SRC is set
#
# Everything Python goes into .venv (created on demand); nothing is installed system-wide.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: demo test venv develop wheel lint lint-rust lint-python test-rust test-python stubtest test-odoo bench-engine clean

$(VENV)/.ready: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "maturin>=1.9.4,<2" "pytest>=8" "pytest-timeout>=2.3" "ruff>=0.6" "mypy>=1.11"
	touch $@

venv: $(VENV)/.ready

## Build the extension (debug profile: fast to compile; the benchmarks build with --release) into .venv.
develop: venv
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --quiet $(MATURIN_FLAGS)

demo: MATURIN_FLAGS = --release
demo: develop
	$(PY) -m outlook_sync.demo

test: lint-rust test-rust develop test-python lint-python stubtest test-odoo
	@echo "make test: all checks passed"

lint-rust:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	$(CARGO) test --workspace --locked

test-python: develop
	$(PY) -m pytest -q

lint-python: venv
	$(VENV)/bin/ruff check python tests odoo_addon
	$(VENV)/bin/ruff format --check python tests odoo_addon

## The hand-written stub must match the compiled module.
stubtest: develop
	$(PY) -m mypy.stubtest outlook_sync._native --allowlist python/stubtest-allowlist.txt
	$(PY) -m mypy python/outlook_sync

test-odoo: develop
	@if [ -z "$${ODOO_SRC:-}" ]; then \
	  echo "SKIPPED: Odoo tests (set ODOO_SRC to an Odoo 18 tree to run them; see README.md)"; \
	elif [ ! -d odoo_addon/outlook_calendar_sync ]; then \
	  echo "SKIPPED: Odoo tests (the outlook_calendar_sync addon is not in this tree yet)"; \
	else \
	  scripts/odoo-tests.sh; \
	fi

## What `pip install .` produces, as a check that a clone installs.
wheel: venv
	rm -rf dist && $(PY) -m pip wheel --quiet --no-deps -w dist .

## Reconciling 100,000 linked items with nothing changed: prints time and peak memory.
bench-engine:
	$(CARGO) run --release --locked -p outlook-engine --example bench_idle

clean:
	rm -rf $(VENV) dist target
