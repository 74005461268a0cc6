# Two commands on a fresh machine (Python >= 3.10 and the package registries):
#   make test   set up .venv with the pinned versions and run lint + the whole suite
#   make demo   set up .venv and run the main job on the embedded default
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: setup test test-fast demo docs lint constraints clean fuzz

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "Python >= 3.10 is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check keras_rnninit tests examples benchmarks
	$(BIN)/ruff format --check keras_rnninit tests examples benchmarks

# The backend-agnostic part of the suite runs again under JAX (export is
# TensorFlow-only and says so; tests/export/test_backends.py checks that).
JAX_TESTS := tests/initializers tests/layers tests/schemes \
             tests/tasks/test_adding.py tests/tasks/test_copy.py tests/tasks/test_chars.py \
             tests/tasks/test_registry.py tests/diagnostics/test_profiles.py \
             tests/diagnostics/test_signal.py tests/diagnostics/test_callbacks.py \
             tests/diagnostics/test_fit_loss.py::test_fit_loss_matrix_under_other_backends \
             tests/compare/test_interrupts.py tests/compare/test_stacked.py \
             keras_rnninit/initializers

# pytest-xdist: one worker per core, tests handed out one by one; the Ray
# cluster tests share a group (one worker), so two clusters never overlap.
PYTEST := $(BIN)/python -m pytest -n $(or $(PYTEST_WORKERS),auto) --dist loadgroup --durations=15

test: lint
	$(PYTEST)
	KERAS_BACKEND=jax $(PYTEST) $(JAX_TESTS)

# The inner loop: lint and the tests not marked `slow` (pyproject.toml), on
# TensorFlow. CI and "done" stay on the full `make test`.
test-fast: lint
	$(PYTEST) -m "not slow"

# The differential harnesses with hundreds of Hypothesis examples instead of
# the suite's few (random models against LiteRT and a tape on the loss).
FUZZ_EXAMPLES ?= 300
fuzz: $(STAMP)
	KERAS_RNNINIT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -p no:warnings \
	  tests/export/test_differential.py tests/diagnostics/test_differential.py

demo: $(STAMP)
	$(BIN)/keras-rnninit demo --force

# The documentation site, offline, into site/: first the images of its pages
# from the committed benchmark results (see benchmarks/), then
# `mkdocs build --strict` (any warning fails; the API and CLI pages are
# written from the docstrings and the parser).
docs: $(STAMP)
	$(BIN)/python benchmarks/make_docs.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Re-pin constraints.txt to what a fresh install of the declared ranges gives.
constraints:
	rm -rf .venv-pin && $(PYTHON) -m venv .venv-pin
	.venv-pin/bin/python -m pip install --quiet --upgrade pip
	.venv-pin/bin/python -m pip install --quiet ".[dev]"
	{ sed -n '1,3p' constraints.txt; .venv-pin/bin/python -m pip freeze | grep -vi '^keras.rnninit'; \
	  echo "pip==$$(.venv-pin/bin/python -m pip --version | cut -d' ' -f2)"; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf .venv-pin

clean:
	rm -rf $(VENV) build site *.egg-info
