"""FLINT Cloud: FLINT and GCBM carbon models in Python, as a library, a CLI and a service."""

import os
import sys

__version__ = "0.1.0"

# NumPy's AVX-512 exp differs from glibc's by 1 ULP on a few percent of inputs; FLINT's
# reference outputs come from glibc, so ask NumPy for its libm-exact code paths. This only
# works before NumPy is first imported; flintcloud.flint.mathlib verifies it either way.
if "numpy" not in sys.modules:
    os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", "X86_V4 AVX512_ICL AVX512_SPR")
