"""Benchmark: GCBM on landscapes where no two pixels are alike.

    python benchmarks/gcbm_heterogeneous.py [--landscape demo|blocks|small|tiles] [--blocks N]
                                            [--tiles CxR] [--group-pixels P] [--no-outputs]
                                            [--sample S] [--workdir DIR]

`demo`: the GCBM demo with a per-pixel temperature and age offset (11,347 distinct stands);
`blocks`: N full blocks of 160,000 cells (a smooth temperature field with no two cells equal,
ages varying per cell, classifiers in patches, the demo's events); `small`: N blocks of 4 such
cells (as projects with coarse cells have), also run one block per task (no grouping of small
blocks) for the ratio. Both are generated
deterministically (benchmarks/landscapes.py). Prints distinct stands, spinup stands/s, annual
stand-steps/s, wall time (engine alone, then with every output unless --no-outputs) and peak
RSS, and the ratio to simulating each stand alone, measured on a sample of S stands of the
first block in the same run.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import flintcloud  # noqa: F401  (sets NumPy's libm-exact mode before NumPy loads)

DEMO = Path(__file__).resolve().parents[1].parent / "shared/data/gcbm-demo/gcbm-project-demo.zip"
GCBM_DISTINCT_DEMO_SECONDS = 300.0  # real GCBM on the distinct-pixel demo, 2-core machine
TILES_TARGET_SECONDS = 120.0  # issue 14: the national landscape, every output, one process


@dataclass
class Counts:
    stands: int = 0
    spinup_stands: int = 0
    spinup_seconds: float = 0.0
    simulate_seconds: float = 0.0  # without the spinups it ran (small blocks' run before it)
    steps: int = 0


def instrument(counts: Counts) -> None:
    """Count distinct stands and time spinup and the whole simulation of each block."""
    from flintcloud.gcbm import run
    from flintcloud.gcbm.science import simulation

    distinct, spin_up, simulate = run.distinct_stands, simulation.spin_up, run.simulate

    def counted_distinct(inputs):  # type: ignore[no-untyped-def]
        stands, stand_of_pixel = distinct(inputs)
        counts.stands += stands.n
        return stands, stand_of_pixel

    def timed_spin_up(stands, params):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = spin_up(stands, params)
        counts.spinup_seconds += time.perf_counter() - started
        counts.spinup_stands += stands.n
        return result

    def timed_simulate(inputs, *args, **kwargs):  # type: ignore[no-untyped-def]
        started, spinup_before = time.perf_counter(), counts.spinup_seconds
        result = simulate(inputs, *args, **kwargs)
        counts.simulate_seconds += time.perf_counter() - started - (counts.spinup_seconds
                                                                    - spinup_before)
        counts.steps = args[4]
        return result

    run.distinct_stands = counted_distinct
    simulation.spin_up = timed_spin_up
    run.simulate = timed_simulate


def per_stand_seconds(project_dir: Path, sample: int) -> float:
    """Seconds to simulate one stand alone (a batch of one, no shared spinup), on average over
    `sample` distinct stands of the project's first simulated block."""
    import numpy as np

    from flintcloud.gcbm.project.blocks import BlockReader
    from flintcloud.gcbm.project.config import open_project
    from flintcloud.gcbm.project.parameters import load_parameters
    from flintcloud.gcbm.project.rasters import block_windows
    from flintcloud.gcbm.science.simulation import EventLayer, PixelInputs, distinct_stands
    from flintcloud.gcbm.science.simulation import simulate as simulate_stands

    with open_project(project_dir) as project:
        library = load_parameters(project)
        reader = BlockReader(project, library)
        try:
            data = next(d for tile in project.tiles for w in block_windows(tile, project.grid)
                        if (d := reader.read(w)) is not None)
        finally:
            reader.close()
            library.db.close()
        stands, _ = distinct_stands(data.inputs)
        picks = np.linspace(0, stands.n - 1, min(sample, stands.n)).astype(np.intp)
        started = time.perf_counter()
        for i in picks:
            one = slice(int(i), int(i) + 1)
            alone = replace(stands, **{name: getattr(stands, name)[one] for name in
                                       ("classifier_set", "spu", "temperature_c", "initial_age",
                                        "has_initial_age")},
                            events=tuple(EventLayer(e.name, e.year[one], e.type_idx[one],
                                                    e.transition_idx[one]) for e in stands.events))
            assert isinstance(alone, PixelInputs)
            params = data.parameters
            simulate_stands(alone, params.params, params.stand_type_by_set,
                            params.rule_transition, project.start_year, project.n_steps)
        return (time.perf_counter() - started) / len(picks)


def main() -> None:
    from landscapes import distinct_blocks, distinct_demo, small_blocks, tiled_landscape

    from flintcloud.gcbm import run as gcbm_run
    from flintcloud.gcbm.run import run_gcbm, run_project

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landscape", choices=("demo", "blocks", "small", "tiles"), default="demo")
    parser.add_argument("--blocks", type=int, default=1)
    parser.add_argument("--tiles", default="7x5", help="columns x rows of 1° tiles (tiles)")
    parser.add_argument("--group-pixels", type=int, default=None,
                        help="run consecutive blocks as one task until they hold P pixels "
                             "(the engine's GROUP_PIXELS by default)")
    parser.add_argument("--no-outputs", action="store_true")
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    if args.group_pixels is not None:
        gcbm_run.GROUP_PIXELS = args.group_pixels
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        if args.landscape == "demo":
            project = distinct_demo(DEMO, Path(tmp) / "project")
        elif args.landscape == "blocks":
            project = distinct_blocks(DEMO, args.blocks, Path(tmp) / "project")
        elif args.landscape == "small":
            project = small_blocks(DEMO, args.blocks, Path(tmp) / "project")
        else:
            columns, rows = (int(n) for n in args.tiles.lower().split("x"))
            made = tiled_landscape(DEMO, Path(tmp) / "project", tiles=(columns, rows))
            project = made.root
            print(f"tiles: {made.tiles} tiles, {made.pixels:,} pixels in {made.blocks:,} blocks")
        alone = per_stand_seconds(project, args.sample)
        ungrouped = None
        if args.landscape == "small":
            grouping, gcbm_run.GROUP_PIXELS = gcbm_run.GROUP_PIXELS, 0
            started = time.perf_counter()
            run_project(project)
            ungrouped = time.perf_counter() - started
            gcbm_run.GROUP_PIXELS = grouping
        counts = Counts()
        instrument(counts)
        started = time.perf_counter()
        run = run_project(project)
        engine = time.perf_counter() - started
        counts = replace(counts)  # the engine run's; the run with outputs counts on elsewhere
        instrument(Counts())
        engine_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        everything, n_files = None, 0
        if not args.no_outputs:
            started = time.perf_counter()
            n_files = len(run_gcbm(project, Path(tmp) / "out").files)
            everything = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    annual = counts.simulate_seconds
    print(f"{args.landscape}: {run.n_pixels:,} pixels in {run.n_blocks_simulated} blocks, "
          f"{counts.stands:,} distinct stands ({counts.spinup_stands:,} spun up)")
    print(f"engine: {engine:.2f} s, peak RSS {engine_rss:.0f} MB; spinup "
          f"{counts.spinup_seconds:.2f} s ({counts.spinup_stands / counts.spinup_seconds:,.0f} "
          f"stands/s), annual steps {annual:.2f} s "
          f"({counts.stands * counts.steps / annual:,.0f} stand-steps/s)")
    if everything is not None:
        print(f"with every output: {everything:.2f} s, peak RSS {peak:.0f} MB, {n_files:,} files")
    if args.landscape == "tiles":
        blocks = run.n_blocks_simulated
        print(f"per block (in groups of {gcbm_run.GROUP_PIXELS:,} pixels): "
              f"{engine / blocks * 1e3:.1f} ms engine alone"
              + (f", {everything / blocks * 1e3:.1f} ms with every output; target "
                 f"{TILES_TARGET_SECONDS:.0f} s with every output: "
                 f"{'met' if everything <= TILES_TARGET_SECONDS else 'NOT met'}"
                 if everything is not None else ""))
    if ungrouped is not None:
        blocks = run.n_blocks_simulated
        print(f"per block: {engine / blocks * 1e3:.1f} ms in groups of "
              f"{gcbm_run.GROUP_PIXELS:,} pixels, {ungrouped / blocks * 1e3:.1f} ms one block a "
              f"task: {ungrouped / engine:.1f}x")
    print(f"each stand alone (a sample of {min(args.sample, counts.stands)}): {alone * 1e3:.1f} ms "
          f"per stand, {alone * counts.stands:.0f} s for them all: the engine is "
          f"{alone * counts.stands / engine:.0f}x faster")
    if args.landscape == "demo" and everything is not None:
        print(f"real GCBM on this landscape: ~{GCBM_DISTINCT_DEMO_SECONDS:.0f} s: "
              f"{GCBM_DISTINCT_DEMO_SECONDS / everything:.0f}x faster with every output")


if __name__ == "__main__":
    main()
