"""Benchmark: the synthetic GCBM project of `flintcloud gcbm demo`, from nothing to results
(python benchmarks/gcbm_synthetic.py [N] [--outputs]); N blocks of 160,000 cells, default 10.

Times the three stages separately: building the input database from libcbm's cbm_defaults and
generating the rasters, preparing the project (checks, whole-tile layers, config), and running
it (the engine alone, or with every output with --outputs).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import flintcloud  # noqa: F401


def main() -> None:
    from flintcloud.gcbm.inputs.demo import write_demo_inputs
    from flintcloud.gcbm.inputs.prepare import prepare_project
    from flintcloud.gcbm.run import run_gcbm, run_project

    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    n_blocks = int(args[0]) if args else 10
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        write_demo_inputs(root / "inputs", n_blocks=n_blocks, seed=42)
        generated = time.perf_counter()
        config = prepare_project(root / "inputs", root / "project")
        prepared = time.perf_counter()
        if "--outputs" in sys.argv:
            run = run_gcbm(config.parent, root / "output").run
        else:
            run = run_project(config.parent)
        finished = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"synthetic: {n_blocks} blocks, {run.n_pixels} pixels, {run.n_steps} steps: "
          f"inputs + db {generated - started:.2f} s, prepare {prepared - generated:.2f} s, "
          f"run {finished - prepared:.2f} s{' with all outputs' if '--outputs' in sys.argv else ''}"
          f"; peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
