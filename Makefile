# The course's two commands (see README.md):
#   make lab   - set up .venv if needed and open JupyterLab on notebooks/
#   make test  - set up .venv if needed and run every test (unit tests + every notebook via nbval)

# The pinned stack has wheels for Python 3.11, 3.12 and 3.13: the first of python3.11,
# python3.12, python3.13 and python3 that runs and is one of those is used (a version
# manager's shim may exist without working); `make PYTHON=/path/to/python3.12 setup` picks one.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
  $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null \
  && command -v $$p && break; done)
SUPPORTED_PYTHONS := 3.11, 3.12 or 3.13
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.course-installed
# Quiet TensorFlow's C++ logging before it loads, in every process we start.
export TF_CPP_MIN_LOG_LEVEL ?= 3
# oneDNN on, one inter-op thread: the fast CPU settings (see course_lib/__init__.py).
export TF_ENABLE_ONEDNN_OPTS ?= 1
export TF_NUM_INTEROP_THREADS ?= 1
export KERAS_BACKEND ?= tensorflow
# JupyterLab refuses to run as root without this flag; CI and many containers run as root.
ROOT_FLAG := $(shell [ "$$(id -u)" = "0" ] && echo --allow-root)
LAB_ARGS ?=
PYTEST_ARGS ?=
# Slide decks load reveal.js from build/vendor/ (local, works offline) or from a CDN (cdn).
REVEAL ?= local
# The browser tests (slides, JupyterLab) need Debian's chromium and the local reveal.js; `make
# test` installs both and makes the tests fail, not skip, without them. BROWSER_TESTS=skip
# opts out (they then skip with a message).
BROWSER_TESTS ?= required
CHROMIUM ?= /usr/bin/chromium
IS_ROOT := $(shell [ "$$(id -u)" = "0" ] && echo yes)

.PHONY: setup lab test lint notebooks benchmark clean slides reveal browser

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  if [ -z "$(PYTHON)" ]; then \
	    echo "No Python found. The course needs Python $(SUPPORTED_PYTHONS) (e.g. python3.12 on" \
	      "the PATH, or make PYTHON=/path/to/python3.12 setup)." >&2; exit 1; fi; \
	  $(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v <= (3, 13) else f"{sys.executable} is Python {v[0]}.{v[1]}; the course needs Python $(SUPPORTED_PYTHONS) (its pinned TensorFlow has wheels for those). Install one and run make PYTHON=python3.12 setup.")' \
	    && $(PYTHON) -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

test: setup $(if $(filter skip,$(BROWSER_TESTS)),,browser reveal)
	COURSE_BROWSER_TESTS=$(BROWSER_TESTS) COURSE_CHROMIUM=$(CHROMIUM) COURSE_PROFILE=smoke \
	  $(PY) -m pytest tests notebooks --nbval-lax -p no:cacheprovider $(PYTEST_ARGS)

# Debian's chromium for the browser tests (Playwright drives it; it downloads no browser).
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$(IS_ROOT)" = yes ] && command -v apt-get >/dev/null; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
	  echo "Chromium ($(CHROMIUM)) is missing: install it (Debian/Ubuntu: sudo apt-get install" \
	    "chromium), set CHROMIUM=/path/to/chromium, or run make test BROWSER_TESTS=skip." >&2; \
	  exit 1; \
	fi

# reveal.js (and the require.js, jQuery, MathJax its decks load) from the npm registry, at
# pinned versions, into build/vendor/ (git-ignored). Needs npm once; as root it installs it.
reveal: setup
	@if ! command -v npm >/dev/null && [ "$(IS_ROOT)" = yes ] && command -v apt-get >/dev/null; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm; fi
	$(PY) tools/slides.py vendor

# Every chapter as a reveal.js deck in build/slides/, with build/slides/index.html.
slides: setup $(if $(filter cdn,$(REVEAL)),,reveal)
	$(PY) tools/slides.py export --reveal $(REVEAL)

lint: setup
	$(VENV)/bin/ruff check course_lib tests benchmarks tools notebooks

# Re-executes every chapter at the cpu profile (stored outputs are a real run) and rewrites
# RESULTS.md with what each cost; see "Course runner" in README.md.
notebooks: setup
	$(PY) -m course_lib run --profile cpu

benchmark: setup
	$(PY) benchmarks/char_gpt.py

clean:
	rm -rf $(VENV) build
