"""The web UI as the service serves it: where it is, its headers, that it loads nothing from
elsewhere and that every module it imports exists; and the small endpoints it relies on."""

from __future__ import annotations

import json
import re

import pytest

from conftest import SMALL_ATTRIBUTES, small_project_files, zip_bytes
from flintcloud.service.ui import ui_directory

STATIC = ui_directory()
MODULE_IMPORT = re.compile(r"""(?:import|from)\s*(?:[\w{}\s,*]+from\s*)?["'](\.{1,2}/[^"']+)["']""")


def static_files(*suffixes: str) -> list:
    return sorted(path for path in STATIC.rglob("*") if path.suffix in suffixes)


def test_ui_redirects_to_its_folder_and_serves_index_with_a_strict_policy(client):
    redirect = client.get("/ui", follow_redirects=False)
    assert redirect.status_code == 307 and redirect.headers["location"].endswith("/ui/")
    page = client.get("/ui/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="app.js">' in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    script = client.get("/ui/app.js")
    assert script.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert client.get("/ui/nope.js").status_code == 404


def test_ui_files_reference_nothing_outside_the_service():
    # vendored libraries (Leaflet) keep their own text; test_map_browser.py runs the map offline
    files = [path for path in static_files(".html", ".js", ".css")
             if "vendor" not in path.relative_to(STATIC).parts]
    assert {path.name for path in files} >= {"index.html", "app.js", "app.css"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        # the only absolute URL allowed is the SVG namespace name, which is never fetched
        urls = set(re.findall(r"https?://[^\s\"'`)]+", text)) - {"http://www.w3.org/2000/svg"}
        assert not urls, (path.name, urls)
        assert "@import" not in text and "eval(" not in text and ".innerHTML" not in text, path.name


def test_leaflet_is_vendored_with_its_licence(client):
    leaflet = STATIC / "vendor" / "leaflet"
    assert "BSD 2-Clause" in (leaflet / "LICENSE").read_text()
    page = client.get("/ui/").text
    assert '<script src="vendor/leaflet/leaflet.js">' in page and 'href="vendor/leaflet/leaflet.css"' in page
    for name in ("leaflet.js", "leaflet.css", "LICENSE"):
        assert client.get(f"/ui/vendor/leaflet/{name}").status_code == 200


def test_a_basemap_origin_is_allowed_only_when_set():
    from flintcloud.service.ui import ui_headers

    assert "img-src 'self' blob: data:;" in ui_headers()["Content-Security-Policy"]
    policy = ui_headers("https://tile.example.org/{z}/{x}/{y}.png")["Content-Security-Policy"]
    assert "img-src 'self' blob: data: https://tile.example.org;" in policy
    assert "connect-src 'self'" in policy


def test_every_module_the_ui_imports_is_served(client):
    imports = [(path, target) for path in static_files(".js")
               for target in MODULE_IMPORT.findall(path.read_text(encoding="utf-8"))]
    assert len(imports) >= 20
    for path, target in imports:
        resolved = (path.parent / target).resolve()
        relative = resolved.relative_to(STATIC.resolve()).as_posix()
        assert client.get(f"/ui/{relative}").status_code == 200, (path.name, target)


def test_the_ui_names_no_output_file_and_describes_no_indicator_itself():
    """Output file names, indicators, their units and descriptions are declared once, in
    gcbm.outputs.layout and the templates; the UI reads them from the API."""
    from flintcloud.gcbm.outputs.layout import ITEM_DESCRIPTIONS, MAIN_FILES

    text = "".join(path.read_text(encoding="utf-8") for path in static_files(".js"))
    # as a string of the code (prose such as a hint may mention a file)
    assert [name for name in MAIN_FILES if re.search(f"[\"'`/]{re.escape(name)}[\"'`]", text)] == []
    assert [about for about in ITEM_DESCRIPTIONS.values() if about in text] == []
    assert "INDICATORS" not in text


def test_landing_page_links_the_ui_for_json_and_html_clients(client):
    assert client.get("/", headers={"Accept": "text/plain"}).text == "FLINT.Cloud API"
    links = client.get("/", headers={"Accept": "application/json"}).json()["links"]
    ui = [link for link in links if link["type"] == "text/html" and link["rel"] == "alternate"]
    assert len(ui) == 1 and ui[0]["href"].endswith("/ui/")
    browser = client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html")
    assert 'href="http://testserver/ui/"' in browser.text
    assert client.get("/?f=json", headers={"Accept": "text/html"}).json()["title"] == "FLINT Cloud"
    forged = client.get("/", headers={"Accept": "text/html", "Host": 'x"><script>alert(1)</script>'})
    assert "<script>" not in forged.text


@pytest.mark.parametrize(("process", "key"), [("point", "Pools"), ("rothc", "Variables")])
def test_process_example_is_an_execute_request_of_the_builtin_example(client, process, key):
    example = client.get(f"/processes/{process}/example").json()
    assert key in example["inputs"]["config"]
    assert example["inputs"]["config"]["LocalDomain"]["start_date"] == "1920/01/01"


def test_process_without_example_is_404(client):
    assert client.get("/processes/gcbm/example").status_code == 404
    assert client.get("/processes/nope/example").status_code == 404


def test_attribute_choices_list_pixel_values_and_the_databases_vocabulary(client, tmp_path):
    simulation = client.post("/simulations", json={"title": "choices"}).json()["id"]
    empty = client.get(f"/simulations/{simulation}/attributes/choices").json()
    assert empty == {"layers": {}, "classifiers": {}, "disturbance_types": [], "transitions": [],
                     "spatial_units": [], "boundaries": {}}
    files = small_project_files(tmp_path / "files")
    members = {f"{category}/{path.name}": path.read_bytes()
               for category, paths in files.items() for path in paths}
    members["attributes.json"] = json.dumps(SMALL_ATTRIBUTES).encode()
    client.post(f"/simulations/{simulation}/files", files=[("files", ("p.zip", zip_bytes(members)))])
    choices = client.get(f"/simulations/{simulation}/attributes/choices").json()
    rasters = {name for paths in files.values() for name in (p.name for p in paths)
               if name.endswith(".tiff") and not name.startswith(("initial_age", "mean_annual"))}
    assert {f"{name.removesuffix('.tiff').removesuffix('_moja')}" for name in rasters} == \
        set(choices["layers"])
    assert choices["layers"]["Classifier1"] == {"category": "classifiers", "pixel_values": [1, 2]}
    assert choices["layers"]["disturbances_2012"] == {"category": "disturbances",
                                                      "pixel_values": [1]}
    assert {"TA", "BP"} <= set(choices["classifiers"]["Classifier1"])
    assert "Wildfire" in choices["disturbance_types"] and 1 in choices["transitions"]
    assert {"admin_boundary": "British Columbia", "eco_boundary": "Taiga Plains"} in \
        choices["spatial_units"]
