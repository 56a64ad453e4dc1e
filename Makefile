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

.PHONY: demo test venv develop wheel lint lint-rust lint-python test-rust test-python stubtest test-odoo bench-engine bench adversarial clean

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
	$(VENV)/bin/ruff check python tests odoo_addon bench adversarial
	$(VENV)/bin/ruff format --check python tests odoo_addon bench adversarial

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

## Our addon beside Odoo 18's microsoft_calendar against the emulator with Microsoft's limits on (BENCHMARKS.md).
## BENCH_N (default 2000) and BENCH_SERVICE_MS (default 0,100) make quick runs; JSON lines go to stdout.
bench:
	@if [ -z "$${ODOO_SRC:-}" ]; then \
	  echo "SKIPPED: benchmarks (set ODOO_SRC to an Odoo 18 tree to run them; see BENCHMARKS.md)"; \
	else \
	  "$${ODOO_VENV:-$$ODOO_SRC/../odoo-venv}/bin/python" bench/run.py; \
	fi

## Long forms of the adversarial suites (issue 6), with the figures of every suite at the end: faults and load
## against a real Odoo 18 (ODOO_SRC; a fresh database each, dropped afterwards; without ODOO_SRC a SKIPPED line),
## the runner's state-machine property test and the hostile-input property tests (release builds).
## ADVERSARIAL_RUNS (faults rounds, default 40), ADVERSARIAL_SEED, ADVERSARIAL_LOAD_USERS (default 50),
## PROPTEST_CASES (default 600 for the state machine, 20000 for the hostile-input tests), SYNC_SM_STEPS (16),
## ADVERSARIAL_SUITES (default "faults load state_machine hostile") picks suites. Exits non-zero if one failed.
ADVERSARIAL_SUITES ?= faults load state_machine hostile
adversarial:
	@figures=$$(mktemp); status=0; \
	odoo_py="$${ODOO_VENV:-$${ODOO_SRC:-.}/../odoo-venv}/bin/python"; \
	for suite in $(ADVERSARIAL_SUITES); do \
	  echo "== adversarial: $$suite"; \
	  case $$suite in \
	    faults|load) \
	      if [ -z "$${ODOO_SRC:-}" ]; then \
	        echo "$$suite: SKIPPED (set ODOO_SRC to an Odoo 18 tree to run it)" | tee -a $$figures; continue; \
	      fi; \
	      "$$odoo_py" adversarial/$$suite.py | tee -a $$figures || status=1 ;; \
	    state_machine) \
	      log=$$(mktemp); \
	      if PROPTEST_CASES=$${PROPTEST_CASES:-600} SYNC_SM_STEPS=$${SYNC_SM_STEPS:-16} $(CARGO) test --release \
	          --locked -p outlook-runner --test state_machine -- --nocapture 2>&1 | tee $$log; then :; else \
	        status=1; echo "state_machine: FAILED (a failure names the lost or duplicated item)" | tee -a $$figures; fi; \
	      grep -oE 'state_machine: cases=.*' $$log >>$$figures || echo "state_machine: no figures printed" >>$$figures; \
	      rm -f $$log ;; \
	    hostile) \
	      log=$$(mktemp); cases=$${PROPTEST_CASES:-20000}; \
	      if PROPTEST_CASES=$$cases $(CARGO) test --release --locked -p outlook-model --test hostile_graph_json \
	          --test hostile_odoo_records --test hostile_recurrence_tz --test html_sanitize_props -- --nocapture \
	          2>&1 | tee $$log && $(CARGO) test --release --locked -p outlook-runner --test hostile -- --nocapture \
	          2>&1 | tee -a $$log; then :; else status=1; echo "hostile: FAILED" | tee -a $$figures; fi; \
	      grep -E '^hostile-input: (suite|property)=' $$log >>$$figures || echo "hostile: no figures printed" >>$$figures; \
	      rm -f $$log ;; \
	    *) echo "adversarial: unknown suite $$suite" | tee -a $$figures; status=1 ;; \
	  esac; \
	done; \
	echo "== adversarial figures"; cat $$figures; rm -f $$figures; \
	if [ $$status -ne 0 ]; then echo "make adversarial: a suite FAILED (see above)"; exit 1; fi; \
	echo "make adversarial: every suite passed"
