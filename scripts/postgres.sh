#!/usr/bin/env bash
# Start (installing it if needed) a local PostgreSQL server for the job-store tests and export
# TEST_POSTGRESQL_URL. Used by .ci/run on a fresh Debian machine, as root.
# Usage: source scripts/postgres.sh
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
  pg_ctlcluster "$version" main start
fi
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'flintcloud_test'\"" | grep -q 1; then
  su postgres -c "psql -qc \"CREATE USER flintcloud_test WITH PASSWORD 'flintcloud_test' CREATEDB\""
fi
export TEST_POSTGRESQL_URL="postgresql+psycopg://flintcloud_test:flintcloud_test@127.0.0.1/postgres"
