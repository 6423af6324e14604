"""compare_parameters: table-by-table differences between two gcbm_input.db files."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing

import pytest

from flintcloud.gcbm.inputs.input_db import compare_parameters
from tests.gcbm.inputs.conftest import DEMO_SPU

SAPLING = {"a_sap", "b_sap", "k_sap", "cap_sap"}


def test_compare_a_database_with_itself_finds_nothing(built_db):
    report = compare_parameters(built_db, built_db, rtol=0, atol=0)
    assert all(table.is_equal for table in report.tables.values())
    assert report["disturbance_matrix_value (transfers)"].n_common > 8_000


def test_compare_finds_exactly_the_edits(built_db, tmp_path):
    edited = tmp_path / "edited.db"
    shutil.copy(built_db, edited)
    with closing(sqlite3.connect(edited)) as db, db:
        n_not_150 = db.execute("SELECT COUNT(*) FROM spinup_parameter WHERE return_interval <> 150 "
                               "AND id IN (SELECT spinup_parameter_id FROM spatial_unit)").fetchone()[0]
        n_growing = db.execute("SELECT COUNT(*) FROM growth_curve_component_value "
                               "WHERE age = 100 AND merchantable_volume > 0").fetchone()[0]
        db.execute("UPDATE decay_parameter SET q10 = q10 + 0.5 WHERE dom_pool_id = "
                   "(SELECT d.id FROM dom_pool AS d INNER JOIN pool AS p ON p.id = d.pool_id "
                   "WHERE p.name = 'MediumSoil')")
        db.execute("UPDATE spinup_parameter SET return_interval = 150")
        db.execute("DELETE FROM disturbance_matrix_value WHERE disturbance_matrix_id = "
                   "(SELECT id FROM disturbance_matrix WHERE name LIKE '385\\_%' ESCAPE '\\') "
                   "AND source_pool_id <> sink_pool_id AND sink_pool_id = "
                   "(SELECT id FROM pool WHERE name = 'CH4')")
        db.execute("UPDATE growth_curve_component_value SET merchantable_volume = "
                   "merchantable_volume * 1.01 WHERE age = 100")
    report = compare_parameters(edited, built_db)
    decay = report["decay_parameter"]
    assert (decay.n_differing, decay.differing_by_column) == (1, {"q10": 1})
    assert decay.max_abs_difference["q10"] == pytest.approx(0.5)
    assert decay.examples == ("differs: MediumSoil",)
    spinup = report["spinup_parameter"]
    assert (spinup.n_common, spinup.n_differing) == (48, n_not_150)
    assert spinup.differing_by_column == {"return_interval": n_not_150}
    transfers = report["disturbance_matrix_value (transfers)"]
    assert transfers.n_differing == 0 and transfers.n_only_built == 0
    assert transfers.n_only_reference > 0
    assert all(example.startswith("only reference: 385 / ") and example.endswith(" / CH4")
               for example in transfers.examples)
    curves = report["growth_curve_component_value"]
    assert 0 < curves.n_differing == n_growing
    changed = {name for name, table in report.tables.items() if not table.is_equal}
    assert changed == {"decay_parameter", "spinup_parameter",
                       "disturbance_matrix_value (transfers)", "growth_curve_component_value"}


def test_compare_built_with_demo_measures_the_known_differences(built_db, demo_db):
    """What docs/input-db-builder.md reports; the numbers are checked loosely, the facts exactly."""
    report = compare_parameters(built_db, demo_db, **DEMO_SPU)
    for table in ("pool", "decay_parameter", "spinup_parameter", "stump_parameter",
                  "root_parameter", "growth_curve_component_value"):
        assert report[table].is_equal, report[table]
    factors = report["vol_to_bio_factor"]
    assert factors.n_common == 194 and set(factors.differing_by_column) == SAPLING
    assert factors.n_differing > 150  # the demo zeroes sapling parameters in this SPU
    turnover = report["turnover_parameter"]  # the demo has no row for the two "genera" of misc.
    assert (turnover.n_differing, turnover.n_only_reference, turnover.n_only_built) == (0, 0, 2)
    transfers = report["disturbance_matrix_value (transfers)"]
    assert transfers.n_common > 7_900 and transfers.n_differing < 0.05 * transfers.n_common
    assert transfers.max_abs_difference["proportion"] == pytest.approx(0.0104, abs=1e-4)
    markdown = report.to_markdown()
    assert "| vol_to_bio_factor | 194 |" in markdown and "a_sap (" in markdown
