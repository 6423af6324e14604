#!/usr/bin/env bash
# The main job on embedded defaults: set up .venv if needed, then run the FLINT examples.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
exec flintcloud demo "$@"
