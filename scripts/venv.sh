#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install flintcloud into it.
# Usage: source scripts/venv.sh [extras]   e.g. "test,dask"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${1:-}"
python="${PYTHON:-python3}"
if [ ! -x "$root/.venv/bin/python" ]; then
  echo "first set-up: creating $root/.venv (a Python virtual environment) ..." >&2
  "$python" -m venv "$root/.venv"
  "$root/.venv/bin/python" -m pip install --quiet --upgrade pip
fi
stamp="$root/.venv/.installed-$(cat "$root/pyproject.toml" | sha256sum | cut -c1-16)-${extras//,/_}"
if [ ! -f "$stamp" ]; then
  spec="$root"
  [ -n "$extras" ] && spec="$root[$extras]"
  echo "installing flintcloud${extras:+[$extras]} and its dependencies into .venv (once; a few minutes) ..." >&2
  "$root/.venv/bin/python" -m pip install --quiet -e "$spec"
  touch "$stamp"
  echo "installed; .venv/bin/flintcloud is ready" >&2
fi
export PATH="$root/.venv/bin:$PATH"
# NumPy's AVX-512 exp differs from glibc's in the last bit; FLINT's references use glibc's.
export NPY_DISABLE_CPU_FEATURES="${NPY_DISABLE_CPU_FEATURES:-X86_V4 AVX512_ICL AVX512_SPR}"
