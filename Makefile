# The two commands of the README:
#   make run   set up (Python 3.10 venv, pinned deps), train if needed, start the assistant
#   make test  set up, then run the whole test suite
.PHONY: run test setup bench clean

export RASA_TELEMETRY_ENABLED=false

setup:
	@./scripts/bootstrap.sh

run: setup
	@.venv/bin/bot run

test: setup
	@./scripts/ensure_chromium.sh   # Debian's headless Chromium for the browser tests (once)
	@./scripts/cluster.sh install   # Debian's postgresql, redis-server, haproxy for the PostgreSQL and cluster tests (once)
	@.venv/bin/ruff check --no-cache .   # the linter (pyproject.toml [tool.ruff])
	@.venv/bin/python -m pytest -q

bench: setup
	@.venv/bin/python benchmarks/run_all.py

clean:
	rm -rf var models .pytest_cache
