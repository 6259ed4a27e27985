# Two commands do all set-up: `make run` and `make test`.
# Each creates .venv when missing, installs what is missing, then acts.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# torch is installed first and pinned: 2.13.0 is the CPU build on this machine's disk.
# Elsewhere pick a build, e.g. `make test TORCH_SPEC="torch==2.13.0" PIP_TORCH_ARGS="--index-url https://download.pytorch.org/whl/cu126"`.
TORCH_SPEC     ?= torch==2.13.0
PIP_TORCH_ARGS ?=
EXTRAS         ?= dev
STAMP := $(VENV)/.topoequi-installed

.PHONY: run test test-all lint docs install fortran clean

# `make run`: versions, then a short QM9 HOMO run of the implicit steerable model on the
# embedded 5,000-molecule sample (a few minutes on 2 cores); prints the test MAE in meV.
# It replaces only its own previous run folder (--overwrite), never other runs.
RUN_DIR    ?= runs/make-run-qm9-homo
RUN_EPOCHS ?= 10
run: $(STAMP)
	$(VENV)/bin/topoequi info
	@echo "make run: training into $(RUN_DIR) (--overwrite replaces the previous make run there; other runs are kept)"
	$(VENV)/bin/topoequi train qm9 --target homo --model implicit --source sample --epochs $(RUN_EPOCHS) --out $(RUN_DIR) --overwrite

test: $(STAMP)
	$(PY) -m pytest -q

test-all: $(STAMP)
	$(PY) -m pytest -q -m ""

lint: $(STAMP)
	$(PY) -m ruff check topoequi tests benchmarks examples

# `make docs`: the API reference (Sphinx: autodoc + napoleon) and the examples as tutorials, into
# docs/_build/html; any warning is an error.
docs: $(STAMP)
	$(PY) -m sphinx -b html -W --keep-going -q docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

install: $(STAMP)

# escnn -> py3nj needs a Fortran compiler; install gfortran when missing and we are root with apt-get.
fortran:
	@command -v gfortran >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing gfortran (needed to build py3nj for escnn)"; \
	    (apt-get install -y -q gfortran >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q gfortran >/dev/null)); \
	  else echo "warning: no gfortran; escnn will run without py3nj (see README)"; fi; }

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel

$(STAMP): pyproject.toml | $(VENV)/bin/python fortran
	$(PY) -m pip install -q "$(TORCH_SPEC)" $(PIP_TORCH_ARGS)
	$(PY) -m pip install -q "numpy<2" cython
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info
