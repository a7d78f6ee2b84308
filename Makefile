# Two commands matter: `make demo` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: venv lint format test test-fast train demo emulator bench dist clean

venv:
	@scripts/venv

# Style, then the import layers (pyproject.toml [tool.importlinter]), then dead code
# ([tool.vulture]; vulture_allowlist.py names what only frameworks call).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/vulture

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The whole suite: lint, unit and integration tests, end-to-end tests with real processes.
test: venv
	@scripts/test-deps
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest $(PYTEST_ARGS)

# The unit tests only, for iteration (under 3 minutes): no real Rasa processes, browser,
# trained model or scale-out servers. `make test` still runs everything.
test-fast: venv
	@scripts/demo-deps
	$(PY) -m pytest -m "not e2e and not browser and not slow and not scaleout" $(PYTEST_ARGS)

# Train the example bot if its model is missing or stale (cached by content hash).
train: venv
	@$(PY) scripts/train_model.py

demo: venv
	@scripts/demo-deps
	$(PY) scripts/demo.py

# Benchmarks against Rasa's own endpoints (results: artifacts/bench/; method: docs/benchmarks.md).
# Ingest runs twice, the second time in a deployment with gc_freeze on (p99 side by side).
BENCH_ARGS ?= --gc-freeze both
bench: venv
	@scripts/test-deps
	$(PY) bench/bench_handoff.py $(BENCH_ARGS)
	$(PY) bench/bench_tracker_cache.py
	$(PY) bench/bench_escalation.py
	$(PY) bench/bench_open_index.py
	$(PY) bench/soak.py $(SOAK_ARGS)

emulator: venv
	$(PY) -m rasa_zendesk.emulator

# The sdist and the wheel, in dist/ (built from a clean copy: scripts/dist.py; install: README),
# by a small venv with setuptools and wheel only (scripts/build-venv), not Rasa's.
dist:
	@build_python=$$(scripts/build-venv) && $$build_python -m scripts.dist

clean:
	rm -rf .venv models .pytest_cache .ruff_cache artifacts dist
