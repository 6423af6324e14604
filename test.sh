#!/usr/bin/env bash
# The whole test suite: set up .venv with the test extras if needed, lint, then run pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh "test,dask,gcbm-db"
ruff check src tests benchmarks
lint-imports
exec python -m pytest "$@"
