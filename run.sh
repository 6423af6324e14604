#!/usr/bin/env bash
# The main job on embedded defaults: set up .venv if needed, then start the FLINT Cloud service
# (http://127.0.0.1:8080: API, /docs, /ui) with a SQLite job store, local storage in
# ./flintcloud-data and in-process workers. Other commands: ./run.sh demo, ./run.sh gcbm run ...
set -euo pipefail
cd "$(dirname "$0")"
# gcbm-db (libcbm): `gcbm demo` and `gcbm build-db` build input databases from its defaults.
source scripts/venv.sh "dask,gcbm-db"
if [ "$#" -eq 0 ]; then
  set -- serve
fi
exec flintcloud "$@"
