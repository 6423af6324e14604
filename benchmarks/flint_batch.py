"""Benchmark: the FLINT Point and RothC examples over 1e6 land units x 60 monthly steps.

    python benchmarks/flint_batch.py [--land-units N] [--workers W] [--sample S]

For each example, in a fresh process: the batch engine (chunked, W processes), then a sample of
S land units run one by one (a batch of one each, as moja.cli would) to measure the speed-up.
Prints land-unit-steps per second, peak memory and the speed-up; targets from issue 3.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", "X86_V4 AVX512_ICL AVX512_SPR")

STEPS = 60
TARGET_SECONDS = {"point": 3.0, "rothc": 10.0}
TARGET_PEAK_MB = 2048


def _parameters(example: str, n: int, seed: int = 42) -> dict:
    import numpy as np

    rng = np.random.default_rng(seed)
    if example == "point":
        return {f"Pool {i}": rng.uniform(0.0, 200.0, n) for i in (1, 2, 3)}
    return {
        "clayFrac": rng.uniform(0.05, 0.95, n),
        "initSoil.dpmaCMInit": rng.uniform(0.0, 1.0, n),
        "initSoil.rpmaCMInit": rng.uniform(0.0, 20.0, n),
        "initSoil.humsCMInit": rng.uniform(0.0, 60.0, n),
        "initSoil.inrtCMInit": rng.uniform(0.0, 60.0, n),
        "initSoil.TSMDInit": rng.uniform(0.0, 60.0, n),
        "soil.sampleDepth": rng.uniform(10.0, 40.0, n),
        "soil.evapoOpenRatio": rng.uniform(1.0, 3.0, n),
        "soil.dToRRatioInPres": rng.uniform(1.0, 4.0, n),
    }


def _quiet_config(example: str):
    from flintcloud.runner.examples import example_config

    config = example_config(example)
    for module in ("OutputerStream", "OutputerStreamFlux", "ErrorScreenWriter"):
        config.data["Modules"].pop(module)
    return config


def measure(example: str, n: int, workers: int, sample: int) -> dict:
    """Runs in its own process so that peak memory belongs to this example alone."""
    from flintcloud.flint.controller import LocalDomainController
    from flintcloud.runner.batch import run_final_state

    config = _quiet_config(example)
    parameters = _parameters(example, n)
    started = time.perf_counter()
    final = run_final_state(config, n, parameters, workers=workers)
    batch_seconds = time.perf_counter() - started
    assert final.shape[1] == n

    started = time.perf_counter()
    for unit in range(sample):
        LocalDomainController(config, n_land_units=1,
                              overrides={k: v[unit:unit + 1] for k, v in parameters.items()}).run()
    one_by_one = (time.perf_counter() - started) / sample
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"example": example, "land_units": n, "workers": workers, "batch_s": batch_seconds,
            "lu_steps_per_s": n * STEPS / batch_seconds, "one_by_one_s_per_lu": one_by_one,
            "speedup": one_by_one * n / batch_seconds,
            "peak_mb": peak_self + (peak_workers * workers if workers > 1 else 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--land-units", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--example", choices=["point", "rothc"], action="append")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    examples = args.example or ["point", "rothc"]
    if args.child:
        print(json.dumps(measure(examples[0], args.land_units, args.workers, args.sample)))
        return
    print(f"{'example':8} {'land units':>10} {'workers':>7} {'time s':>8} {'target':>7} "
          f"{'LU-steps/s':>12} {'1-by-1 s':>9} {'speed-up':>9} {'peak MB':>8}")
    for example in examples:
        done = subprocess.run([sys.executable, __file__, "--child", "--example", example,
                               "--land-units", str(args.land_units), "--workers", str(args.workers),
                               "--sample", str(args.sample)], capture_output=True, text=True,
                              check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{example:8} {r['land_units']:>10,} {r['workers']:>7} {r['batch_s']:>8.2f} "
              f"{TARGET_SECONDS[example]:>7.1f} {r['lu_steps_per_s']:>12.3e} "
              f"{r['one_by_one_s_per_lu'] * r['land_units']:>9.0f} {r['speedup']:>8.0f}x "
              f"{r['peak_mb']:>8.0f}")
    print(f"targets: point <= {TARGET_SECONDS['point']} s, rothc <= {TARGET_SECONDS['rothc']} s, "
          f"peak <= {TARGET_PEAK_MB} MB; '1-by-1 s' extrapolates the sample to all land units")


if __name__ == "__main__":
    main()
