# aonode: `make run` starts a node, `make test` runs every check. Both create .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= ./data
LISTEN ?= 127.0.0.1:7400
HTTP   ?=

.PHONY: run test lint typecheck buf-lint proto proto-check clients clients-check pytest bench clean

# The runtime install: redone when pyproject.toml changes. Not quiet: a first `make run` downloads and
# builds for a while, and a silent terminal looks hung.
$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e .
	@touch $@

# The development install (dev extra): redone when pyproject.toml changes.
$(BIN)/.installed-dev: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(BIN)/.installed

run: $(BIN)/.installed
	@echo "gRPC on $(LISTEN)$(if $(HTTP),; HTTP gateway on http://$(HTTP) (docs/http.md))"
	$(BIN)/aonode serve --data $(DATA) --listen $(LISTEN)$(if $(HTTP), --http $(HTTP))

test: $(BIN)/.installed-dev lint typecheck buf-lint proto-check clients-check pytest

# The TypeScript client's npm dependencies (ts-proto, tsc, grpc-js), from its lockfile, when npm exists:
# without them the client checks skip locally (and fail in CI, which installs them: .ci/run).
NPM       := $(shell command -v npm 2>/dev/null)
TS_DEPS   := $(if $(NPM),clients/typescript/node_modules/.package-lock.json)
clients/typescript/node_modules/.package-lock.json: clients/typescript/package-lock.json
	npm ci --silent --no-audit --no-fund --prefix clients/typescript

# The real aoconnect (and arweave) for tests/http, from its lockfile, when npm exists: without them the
# aoconnect tests skip locally (and fail in CI, which installs them: .ci/run).
HTTP_JS_DEPS := $(if $(NPM),tests/http/js/node_modules/.package-lock.json)
tests/http/js/node_modules/.package-lock.json: tests/http/js/package-lock.json
	npm ci --silent --no-audit --no-fund --prefix tests/http/js

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed-dev
	$(BIN)/mypy aonode store tests scripts

buf-lint: $(BIN)/.installed-dev
	$(BIN)/buf lint

proto: $(BIN)/.installed-dev
	$(BIN)/python scripts/gen_protos.py

proto-check: $(BIN)/.installed-dev
	$(BIN)/python scripts/gen_protos.py --check

# The Go and TypeScript clients' generated code (buf.gen.yaml): regenerate / check it is current.
clients: $(BIN)/.installed-dev $(TS_DEPS)
	$(BIN)/python scripts/gen_clients.py

clients-check: $(BIN)/.installed-dev $(TS_DEPS)
	$(BIN)/python scripts/gen_clients.py --check

pytest: $(BIN)/.installed-dev $(TS_DEPS) $(HTTP_JS_DEPS)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
