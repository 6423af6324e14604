"""The command line: exit codes, one-line errors, batch tables."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd

from flintcloud.models.example.defaults import point_config


def _cli(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flintcloud", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, check=False)


def _write_point(tmp_path, edit=lambda d: None) -> list[str]:
    args = []
    for name, document in point_config():
        edit(document)
        (tmp_path / name).write_text(json.dumps(document))
        args += ["--config", tmp_path / name]
    return args


def test_version_and_modules():
    assert _cli("version").stdout.startswith("flintcloud ")
    listing = _cli("modules").stdout
    assert "moja.flint.example.rothc" in listing and "RothCModule" in listing


def test_bad_input_is_one_line_exit_2_and_leaves_no_files(tmp_path):
    out = tmp_path / "out"
    args = _write_point(tmp_path, lambda d: d.get("Modules", {}).get("TestModule3", {})
                        .get("settings", {}).update(pool_1="Missing"))
    done = _cli("run", *args, "--output-dir", out)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: point_example.json: Modules.TestModule3.settings.pool_1: "
                                  "no pool named 'Missing'")
    assert not out.exists() or not any(out.iterdir())


def test_debug_shows_the_traceback(tmp_path):
    done = _cli("--debug", "run", "--config", tmp_path / "absent.json")
    assert done.returncode == 2
    assert "absent.json: file not found" in done.stderr


def test_json_errors(tmp_path):
    done = _cli("--json", "run", "--config", tmp_path / "absent.json")
    assert done.returncode == 2
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "invalid_config" and "absent.json" in error["message"]


def test_usage_error_exit_2():
    assert _cli("run").returncode == 2


def test_batch_run_writes_tidy_tables(tmp_path):
    params = tmp_path / "params.csv"
    params.write_text("land_unit,Pool 1,Pool 2\nA,100,100\nB,50,0\nC,0,10\n")
    args = _write_point(tmp_path, lambda d: d.get("Modules", {}).get("OutputerStream", {})
                        .get("settings", {}).update(output_to_screen=False))
    done = _cli("run", *args, "--batch", params, "--output-dir", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    stocks = pd.read_parquet(tmp_path / "out" / "stocks.parquet")
    assert len(stocks) == 3 * 61
    assert list(stocks.columns[:4]) == ["land_unit", "notification", "step", "date"]
    first = stocks[stocks.step == 0].set_index("land_unit")
    np.testing.assert_array_equal(first.loc[["A", "B", "C"], "Pool 1"], [100, 50, 0])
    fluxes = pd.read_parquet(tmp_path / "out" / "fluxes.parquet")
    assert set(fluxes.columns) == {"land_unit", "step", "date", "module", "source", "sink", "value"}
    # the reference land unit A equals moja.cli's printed step 1 (119, 80, 101)
    step1 = stocks[(stocks.land_unit == "A") & (stocks.step == 1)]
    assert step1[["Pool 1", "Pool 2", "Pool 3"]].to_numpy().tolist() == [[119.0, 80.0, 101.0]]


def test_batch_rejects_unknown_columns_and_bad_values(tmp_path):
    args = _write_point(tmp_path)
    params = tmp_path / "params.csv"
    params.write_text("Pool 9\n1\n")
    done = _cli("run", *args, "--batch", params, "--output-dir", tmp_path / "out")
    assert done.returncode == 2
    assert "params.csv: Pool 9: 'Pool 9' is neither a pool nor a variable" in done.stderr
    params.write_text("Pool 1\n1\nabc\n")
    done = _cli("run", *args, "--batch", params, "--output-dir", tmp_path / "out")
    assert done.returncode == 2
    assert "params.csv: Pool 1: 1 value(s) are missing or not numbers (line(s) 3)" in done.stderr
    assert not (tmp_path / "out" / "stocks.parquet").exists()


def test_demo_runs_both_examples(tmp_path):
    done = _cli("demo", "--output-dir", tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "point" / "Example_Point_Stock.csv").exists()
    assert (tmp_path / "rothc" / "Example_Rothc_Point_Flux.csv").exists()


def test_a_run_failing_midway_leaves_no_output_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()

    def forbid_negative(document):
        if "LocalDomain" in document:
            document["LocalDomain"]["operationManager"]["allow_negative_transfers"] = False

    args = _write_point(tmp_path, forbid_negative)
    done = _cli("run", *args, "--output-dir", out)
    assert done.returncode == 3
    assert "Negative transfer by TestModule" in done.stderr
    assert list(out.iterdir()) == []


def test_a_failed_run_leaves_earlier_outputs_untouched_and_json_alone_on_stdout(tmp_path):
    """Issue 15 item 8: the previous run's files stay as they were; with --json, stdout holds
    the JSON error only (not the stock CSV printed before the failure)."""
    out = tmp_path / "out"
    assert _cli("run", *_write_point(tmp_path), "--output-dir", out).returncode == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    assert "Example_Point_Stock.csv" in before

    def forbid_negative(document):
        if "LocalDomain" in document:
            document["LocalDomain"]["operationManager"]["allow_negative_transfers"] = False

    failing = tmp_path / "failing"
    failing.mkdir()
    done = _cli("--json", "run", *_write_point(failing, forbid_negative), "--output-dir", out)
    assert done.returncode == 3
    assert json.loads(done.stdout)["error"]["code"]  # nothing but the JSON document
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
