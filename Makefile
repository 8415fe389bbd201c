# The course's two commands (see README.md):
#   make lab   - set up .venv if needed and open JupyterLab on notebooks/
#   make test  - set up .venv if needed and run every test (unit tests + every notebook via nbval)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.course-installed
# Quiet TensorFlow's C++ logging before it loads, in every process we start.
export TF_CPP_MIN_LOG_LEVEL ?= 3
export TF_ENABLE_ONEDNN_OPTS ?= 0
export KERAS_BACKEND ?= tensorflow
# JupyterLab refuses to run as root without this flag; CI and many containers run as root.
ROOT_FLAG := $(shell [ "$$(id -u)" = "0" ] && echo --allow-root)
LAB_ARGS ?=
PYTEST_ARGS ?=

.PHONY: setup lab test lint notebooks benchmark clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

test: setup
	COURSE_PROFILE=smoke $(PY) -m pytest tests notebooks --nbval-lax -p no:cacheprovider $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check course_lib tests benchmarks tools notebooks

# Re-executes every chapter at the cpu profile so stored outputs are a real run.
notebooks: setup
	$(PY) tools/notebooks.py run notebooks/[0-9]*.ipynb --profile cpu

benchmark: setup
	$(PY) benchmarks/char_gpt.py

clean:
	rm -rf $(VENV)
