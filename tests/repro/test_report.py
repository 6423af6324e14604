"""`flintcloud report`: charts that show the series, tables equal to the runs' summaries."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from flintcloud.errors import InputError
from flintcloud.repro.report import write_report
from tests.repro.conftest import cli

image = pytest.importorskip("matplotlib.image", reason="matplotlib is flintcloud[report]")
C0 = np.array([0x1F, 0x77, 0xB4]) / 255  # matplotlib's first line colour: the first series


def _pixels_of(png, colour) -> int:
    rgba = image.imread(png)
    return int((np.abs(rgba[..., :3] - colour).max(axis=-1) < 0.02).sum())


def test_report_against_a_baseline(demo_run, scenario_run, tmp_path):
    report = write_report(scenario_run, tmp_path / "report", baseline=demo_run)
    names = sorted(chart.name for chart in report.charts)
    assert names == ["chart-carbon-stocks.png", "chart-disturbed-area.png",
                     "chart-emissions.png", "chart-production-and-respiration.png"]
    for chart in report.charts:
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert image.imread(chart).shape == (450, 800, 4)
        assert _pixels_of(chart, C0) > 200, chart.name  # the first series is drawn

    ours, baseline = (pd.read_csv(run / "annual_summary.csv") for run in (scenario_run, demo_run))
    pd.testing.assert_frame_equal(pd.read_csv(report.tables["summary"]), ours)
    pd.testing.assert_frame_equal(pd.read_csv(report.tables["baseline"]), baseline)
    differences = pd.read_csv(report.tables["differences"])
    common = [c for c in ours.columns if c in baseline.columns and c != "year"]
    np.testing.assert_array_equal(differences[common].to_numpy(),
                                  (ours[common] - baseline[common]).to_numpy())
    assert differences["total_ecosystem_tc"].abs().max() > 0  # less fire: other stocks

    text = report.markdown.read_text()
    for chart in names:
        assert f"]({chart})" in text
    row_2012 = differences[differences.year == 2012].iloc[0]
    assert f"| 2012 | {row_2012['total_ecosystem_tc']:,.3f} |" in text
    assert "inputs changed: `layers/tiled/disturbances_2011.json`" in text
    assert "Same versions" in text


def test_report_without_baseline_cli(demo_run, tmp_path):
    done = cli("report", demo_run, "-o", tmp_path / "report")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "report" / "report.md").read_text()
    first = json.loads((demo_run / "annual_summary.json").read_text())[0]
    assert f"| 2010 | {first['total_ecosystem_tc']:,.3f} |" in text
    assert "Differences against the baseline" not in text


def test_report_refuses_a_baseline_of_another_landscape(demo_run, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(demo_run / "annual_summary.csv", other)
    manifest = json.loads((demo_run / "manifest.json").read_text())
    manifest["configuration"]["merged"]["LocalDomain"]["landscape"]["tiles"][0]["x"] = -107
    (other / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="the baseline is a run of another landscape"):
        write_report(demo_run, tmp_path / "report", baseline=other)
