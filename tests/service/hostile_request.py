"""Run by test_hostile_inputs in a fresh process: one request against a fresh app, measuring
its time and the process's peak RSS growth (ru_maxrss) while it is answered.

    python hostile_request.py <data dir> <kind>   ->   JSON {status, seconds, rss_growth_bytes, body}
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from conftest import make_geotiff, make_settings, zip_bytes
from flintcloud.service.app import create_app


def alias_bomb(levels: int = 9) -> str:
    """A 'billion laughs' attribute table: each level lists the previous one 9 times."""
    lines = ["Classifier1:", "  attributes:", "    '1': &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
    names = "abcdefghijklmnop"[:levels]
    for number, (previous, name) in enumerate(zip(names, names[1:], strict=False), start=2):
        refs = ",".join([f"*{previous}"] * 9)
        lines.append(f"    '{number}': &{name} [{refs}]")
    return "\n".join(lines) + "\n"


def main(data_dir: Path, kind: str) -> dict:
    raster = make_geotiff(data_dir / "Classifier1.tif", [[1, 2], [1, 1]]).read_bytes()
    bomb = alias_bomb()
    with TestClient(create_app(make_settings(data_dir, extra_processes=[]))) as client:
        simulation = client.post("/simulations", json={"title": "bomb"}).json()["id"]
        requests = {
            "form": lambda: client.post(f"/simulations/{simulation}/files",
                                        data={"category": "classifiers", "attributes": bomb},
                                        files=[("files", ("Classifier1.tif", raster))]),
            "zip": lambda: client.post(f"/simulations/{simulation}/files", files=[(
                "files", ("upload.zip", zip_bytes({"classifiers/Classifier1.tif": raster,
                                                   "attributes.yaml": bomb.encode()})))]),
            "upstream": lambda: client.post("/gcbm/upload/classifiers",
                                            data={"title": "bomb", "attributes": bomb},
                                            files=[("classifiers", ("Classifier1.tif", raster))]),
        }
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        start = time.perf_counter()
        response = requests[kind]()
        seconds = time.perf_counter() - start
        growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    return {"status": response.status_code, "seconds": seconds, "rss_growth_bytes": growth,
            "bomb_bytes": len(bomb), "body": response.text}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2])))
