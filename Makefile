# make demo: install everything into .venv, index examples/docs and search it (embedded models)
# make test: install, then run the whole test suite, real-model tests included (CI runs this;
#   the PostgreSQL tests start a throw-away cluster when `apt-get install postgresql` was run)
VENV ?= .venv
PY := $(VENV)/bin/python
GLOSSDB := $(VENV)/bin/glossdb
DEMO_INDEX ?= examples/demo.glossdb

.PHONY: install demo lint test bench bench-install clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[local,server,langchain,llamaindex,mcp,postgres,train,dev]"
	touch $@

demo: install
	$(GLOSSDB) add examples/docs --index $(DEMO_INDEX)
	$(GLOSSDB) search "Do vitamin D supplements prevent broken bones?" --index $(DEMO_INDEX) -k 3 --explain

lint: install
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest -q

bench-install: install
	$(PY) -m pip install --quiet -e ".[local,server,langchain,llamaindex,mcp,postgres,train,dev,bench]"

# The headline table (SciFact test, Cranfield), rebuilt and checked against
# bench/expected/headline.json; see bench/README.md for every other benchmark.
bench: install
	$(PY) -m bench reproduce

clean:
	rm -rf $(VENV) $(DEMO_INDEX) $(DEMO_INDEX)-wal $(DEMO_INDEX)-shm
