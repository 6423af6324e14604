#!/usr/bin/env bash
# The whole test suite: set up .venv with the test extras if needed, lint, then run pytest.
set -euo pipefail
cd "$(dirname "$0")"
# The browser tests drive Debian's Chromium (Playwright's own browser downloads are not used).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing Debian's chromium for the browser tests ..." >&2
    (apt-get update -q && apt-get install -y -q --no-install-recommends chromium) >/dev/null
  else
    echo "test.sh: Chromium is missing (sudo apt-get install --no-install-recommends chromium):" \
         "the browser tests will SKIP; \`bash .ci/run\` (as root) installs it and runs them" >&2
  fi
fi
if [ -z "${TEST_POSTGRESQL_URL:-}" ]; then
  echo "test.sh: no PostgreSQL server (TEST_POSTGRESQL_URL is not set): the job-store tests on" \
       "PostgreSQL will SKIP; \`bash .ci/run\` starts a server and runs them" >&2
fi
source scripts/venv.sh "test,dask,gcbm-db,report"
ruff check src tests benchmarks
lint-imports
mypy src
exec python -m pytest "$@"
