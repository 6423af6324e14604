#!/usr/bin/env bash
# The whole test suite: set up .venv with the test extras if needed, lint, then run pytest.
set -euo pipefail
cd "$(dirname "$0")"
# The browser tests drive Debian's Chromium (Playwright's own browser downloads are not used).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -q && apt-get install -y -q chromium) >/dev/null
  else
    echo "test.sh: chromium is missing (apt-get install chromium); browser tests will skip" >&2
  fi
fi
source scripts/venv.sh "test,dask,gcbm-db,report"
ruff check src tests benchmarks
lint-imports
mypy src
exec python -m pytest "$@"
