"""`flintcloud gcbm prepare | validate | demo`: one summary, or every problem and exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from tests.gcbm.inputs.conftest import cbm_defaults
from tests.gcbm.inputs.fixtures import set_attributes


def _flintcloud(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flintcloud", *map(str, args)],
                          capture_output=True, text=True, check=False)


def test_validate_summarises_valid_inputs(small_upload, attributes_file):
    done = _flintcloud("gcbm", "validate", small_upload, "--attributes", attributes_file)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("upload: valid (upload form)\n  grid: 0.00025° cells; tiles "
                                  "12674; 1,599 pixels with every classifier\n  period: "
                                  "2010-2014; spatial unit 33")
    assert "classifier   Classifier1 (Classifier1_moja.tiff, attributes from attributes.json)" \
        in done.stdout


def test_validate_lists_every_problem_and_exits_2(small_upload, attributes_file):
    set_attributes(attributes_file, "Classifier1", {1: "TA", 2: "XX"})
    (small_upload / "classifiers/Classifier2_moja.tiff").write_bytes(b"not a tiff")
    done = _flintcloud("gcbm", "validate", small_upload, "--attributes", attributes_file)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "error: upload: 2 problems:"
    assert lines[1].startswith("  - Classifier2_moja.tiff: not a GeoTIFF: the file does not start")
    assert lines[2].startswith("  - attributes.json: Classifier1.attributes['2']: unknown "
                               "classifier value 'XX'")


def test_validate_json_errors_list_each_problem(small_upload, attributes_file):
    set_attributes(attributes_file, "Classifier1", {1: "TA", 2: "XX"})
    done = _flintcloud("--json", "gcbm", "validate", small_upload, "--attributes",
                       attributes_file)
    assert done.returncode == 2
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "invalid_input" and "unknown classifier value 'XX'" in \
        error["message"]


def test_prepare_then_run(small_upload, attributes_file, tmp_path):
    done = _flintcloud("gcbm", "prepare", small_upload, "-o", tmp_path / "project",
                       "--attributes", attributes_file, "--end-year", 2012)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(f"prepared {tmp_path / 'project'}: 5 layers (2 classifiers, "
                                  "1 disturbance layers), 2010-2012, British Columbia / Taiga "
                                  "Plains")
    done = _flintcloud("gcbm", "run", tmp_path / "project", "-o", tmp_path / "output")
    assert done.returncode == 0, done.stderr
    totals = pd.read_csv(tmp_path / "output" / "pool_totals_by_year.csv")
    assert sorted(totals.year.unique()) == [0, 2010, 2011, 2012]


def test_prepare_rejects_a_bad_align_option(small_upload, tmp_path):
    done = _flintcloud("gcbm", "prepare", small_upload, "-o", tmp_path / "p", "--align", "snap")
    assert done.returncode == 2 and "must be reject or reproject" in done.stderr


def test_demo_writes_and_runs_a_mass_balanced_project(tmp_path):
    cbm_defaults()  # libcbm is needed to build the database (skips, or fails in CI)
    done = _flintcloud("gcbm", "demo", "--blocks", 1, "-o", tmp_path / "demo")
    assert done.returncode == 0, done.stderr
    totals = pd.read_csv(tmp_path / "demo" / "output" / "pool_totals_by_year.csv")
    assert (totals.area_ha > 0).all()
    everything = totals.groupby("year")["total_tC"].sum()  # Atmosphere included: closed
    assert abs(everything).max() < 1e-8 * totals.total_tC.abs().max()
    fluxes = pd.read_csv(tmp_path / "demo" / "output" / "fluxes_by_year.csv")
    assert {"Wildfire", "Clearcut harvesting with salvage"} <= set(fluxes.disturbance_type)


def test_run_sh_installs_what_gcbm_demo_needs_and_the_hint_names_real_options(tmp_path):
    """Issue 15 item 9: `./run.sh` (the README's main command) installs libcbm (gcbm-db), and
    the hint given without it names only options the commands have."""
    import re
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    [extras] = re.findall(r'source scripts/venv.sh "([^"]*)"', (root / "run.sh").read_text())
    assert {"dask", "gcbm-db"} <= set(extras.split(","))
    optional = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(requirement.startswith("libcbm") for requirement in optional["gcbm-db"])
    for command in ("demo", "build-db"):
        assert "--cbm-defaults" in _flintcloud("gcbm", command, "--help").stdout
    done = _flintcloud("gcbm", "demo", "--no-run", "--cbm-defaults", cbm_defaults(),
                       "-o", tmp_path / "demo")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "demo" / "project" / "input_database" / "gcbm_input.db").is_file()
