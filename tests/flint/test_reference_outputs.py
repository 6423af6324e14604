"""The engine reproduces moja.cli's stock output byte for byte (flint-core-spec §15)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flintcloud.flint.config import load_config
from flintcloud.runner.examples import example_config
from tests.conftest import shared_path
from tests.helpers import run_to_text, without_banner

CASES = {
    "point": (["point_example.json", "libs.base.simple.json"], "default_point_output.csv"),
    "rothc": (["point_rothc_example.json", "libs.base_rothc.simple.json"],
              "default_point_rothc_output.csv"),
}


def _reference(case: str) -> tuple[list, str]:
    configs, reference = CASES[case]
    config_dir = shared_path("data", "flint-examples", "config")
    expected = shared_path("data", "flint-examples", "reference", reference).read_text()
    return [config_dir / name for name in configs], expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_stock_output_equals_moja_cli_reference(case, tmp_path):
    paths, expected = _reference(case)
    text, _ = run_to_text(load_config(paths), tmp_path)
    assert without_banner(text) == without_banner(expected)
    assert text.count("\n") == expected.count("\n")


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_stdout_equals_moja_cli_reference(case, tmp_path):
    paths, expected = _reference(case)
    args = [sys.executable, "-m", "flintcloud.cli", "run", "--output-dir", str(tmp_path)]
    for path in paths:
        args += ["--config", str(path)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert without_banner(done.stdout) == without_banner(expected)


@pytest.mark.parametrize("case", sorted(CASES))
def test_embedded_example_equals_reference(case, tmp_path):
    _, expected = _reference(case)
    text, _ = run_to_text(example_config(case), tmp_path)
    assert without_banner(text) == without_banner(expected)


@pytest.mark.parametrize("case", sorted(CASES))
def test_stock_file_equals_screen_output(case, tmp_path):
    paths, _ = _reference(case)
    text, result = run_to_text(load_config(paths), tmp_path)
    stock_file = next(path for path in result.files if "Stock" in path.name)
    assert stock_file.read_text() == text
    assert not list(tmp_path.glob(".*.partial"))
