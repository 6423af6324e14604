"""Benchmark: XYZ tile latency on the 25-block landscape's mosaics (4000 x 1200 px COGs).

    python benchmarks/map_tiles.py [N] [--items K] [--workdir DIR]

Runs GCBM with every output on the demo's data block replicated into N blocks (25 by default),
then asks `SimulationService.map_tile` (what GET …/maps/{item}/{year}/tiles/{z}/{x}/{y}.png
calls: catalogue lookup, rio-tiler read, colouring, PNG, LRU cache) for every tile touching the
mosaic at each zoom from the COG's min zoom to three beyond its max (at most 60 per zoom, evenly
spread), for K items (3 by default) in their first and last year: each tile first cold (a
fresh cache: manifest, COG and rendering), then 3 times cached. Then the same through the app's HTTP stack (FastAPI's TestClient in the
process: routing, validation, auth, response; the simulation and job lookups stubbed). Then the
difference maps of the K items (last year minus first year, `ScenarioService.difference_tile`:
two COGs read per tile) cold and cached. Prints p50/p95/max per case. Targets (issue 18): p95 <= 100 ms cold, <= 10 ms cached.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import flintcloud  # noqa: F401  (sets NumPy's libm-exact mode before NumPy loads)

DEMO = Path(__file__).resolve().parents[1].parent / "shared/data/gcbm-demo/gcbm-project-demo.zip"
ZOOMS_BEYOND = 3  # the UI zooms three levels past the pixels' own resolution
PER_ZOOM = 60


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


SIMULATION = "00000000-0000-4000-8000-000000000000"


def http_client(tmp: str, output: Path):
    """The app on a fresh data folder, its simulation and job lookups answering `output`."""
    from fastapi.testclient import TestClient

    from flintcloud.service.app import create_app
    from flintcloud.service.services import Services
    from flintcloud.settings import Settings

    settings = Settings(data_dir=Path(tmp) / "data", workers=0)
    services = Services.build(settings)
    simulations = services.simulations
    simulations.get = lambda simulation_id, owner=None: SimpleNamespace(id=SIMULATION)  # type: ignore[method-assign]
    simulations.output_dir = lambda simulation: (SimpleNamespace(id="bench"), output)  # type: ignore[method-assign]
    return TestClient(create_app(settings, services=services))


def main() -> None:
    import morecantile
    from landscapes import replicate_blocks

    from flintcloud.gcbm.outputs.catalogue import map_catalogue
    from flintcloud.gcbm.run import run_gcbm
    from flintcloud.io.raster_image import tile_grid
    from flintcloud.service.maps import LruCache
    from flintcloud.service.scenarios import DIFFERENCE_TILES_CACHED, ScenarioService
    from flintcloud.service.simulations import MAP_TILES_CACHED, SimulationService

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_blocks", nargs="?", type=int, default=25)
    parser.add_argument("--items", type=int, default=3)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    web_mercator = morecantile.tms.get("WebMercatorQuad")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        project = replicate_blocks(DEMO, args.n_blocks, Path(tmp) / "project")
        started = time.perf_counter()
        output = Path(tmp) / "output"
        run_gcbm(project, output)
        print(f"run with every output: {time.perf_counter() - started:.1f} s")
        catalogue = map_catalogue(output)
        # the service with its job lookup replaced by the run's folder (no database)
        service = SimulationService.__new__(SimulationService)
        service.output_dir = lambda simulation: (SimpleNamespace(id="bench"), output)  # type: ignore[method-assign]
        cases = [(name, year) for name in list(catalogue)[:args.items]
                 for year in (next(iter(catalogue[name].paths)), list(catalogue[name].paths)[-1])]
        first = catalogue[cases[0][0]].paths[cases[0][1]]
        grid = tile_grid(first)
        import rasterio
        with rasterio.open(first) as raster:
            size = f"{raster.width} x {raster.height} px"
        west, south, east, north = grid.bounds
        zooms = range(grid.minzoom, grid.maxzoom + ZOOMS_BEYOND + 1)
        tiles = []
        for z in zooms:
            at_zoom = [(t.z, t.x, t.y) for t in web_mercator.tiles(west, south, east, north, [z])]
            tiles += at_zoom[::max(1, len(at_zoom) // PER_ZOOM)][:PER_ZOOM]
        per_zoom = {z: sum(1 for t in tiles if t[0] == z) for z in zooms}
        print(f"mosaics {size}, zooms {grid.minzoom}-{zooms[-1]} (tiles asked per zoom: "
              f"{', '.join(f'{z}: {n}' for z, n in per_zoom.items())}), {len(cases)} maps: "
              f"{', '.join(f'{name} {year}' for name, year in cases)}")
        style = {"ramp": "viridis", "vmin": 0.0, "vmax": 200.0}  # as the UI's tile links

        def service_tile(name: str, year: str, z: int, x: int, y: int) -> None:
            service.map_tile(None, name, year, z, x, y, **style)  # type: ignore[arg-type]

        client = http_client(tmp, output)
        query = "ramp=viridis&min=0.0&max=200.0"

        def http_tile(name: str, year: str, z: int, x: int, y: int) -> None:
            response = client.get(f"/simulations/{SIMULATION}/maps/{name}/{year}/tiles/{z}/{x}/{y}.png?{query}")
            assert response.status_code == 200, response.text

        results = {}
        for label, fetch, target in (("service", service_tile, service), ("HTTP", http_tile, client.app.state.services.simulations)):
            cold: list[float] = []
            cached: list[float] = []
            for name, year in cases:
                target.map_tiles = LruCache(MAP_TILES_CACHED)  # cold: nothing of this map cached
                target.map_styles = LruCache(256)
                for rounds, times in ((1, cold), (3, cached)):
                    for _ in range(rounds):
                        for z, x, y in tiles:
                            started = time.perf_counter()
                            fetch(name, year, z, x, y)
                            times.append(time.perf_counter() - started)
            results[f"{label}, cold"] = cold
            results[f"{label}, cached"] = cached
        client.close()
        differences = ScenarioService(service)
        run = SimpleNamespace(id="run")
        cold, cached = [], []
        for name in list(catalogue)[:args.items]:
            years = list(catalogue[name].paths)
            differences.difference_tiles = LruCache(DIFFERENCE_TILES_CACHED)
            differences.difference_styles = LruCache(256)
            differences.difference_layers = LruCache(256)
            for rounds, times in ((1, cold), (3, cached)):
                for _ in range(rounds):
                    for z, x, y in tiles:
                        started = time.perf_counter()
                        differences.difference_tile(run, name, years[-1], run, years[0], z, x, y,  # type: ignore[arg-type]
                                                    extent=50.0)  # as the UI's tile links
                        times.append(time.perf_counter() - started)
        results["difference, cold"] = cold
        results["difference, cached"] = cached
        print("| tiles | requests | p50 | p95 | max |\n|---|---|---|---|---|")
        for label, times in results.items():
            ms = [t * 1000 for t in times]
            print(f"| {label} | {len(ms)} | {statistics.median(ms):.2f} ms | "
                  f"{percentile(ms, 0.95):.2f} ms | {max(ms):.2f} ms |")


if __name__ == "__main__":
    main()
