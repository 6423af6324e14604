"""build_input_db against the demo project's gcbm_input.db: schema, GCBM's SQL, parameters."""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from contextlib import closing

import pandas as pd
import pytest

from flintcloud.gcbm.inputs.input_db import build_input_db
from tests.gcbm.inputs.conftest import DEMO_SPU, growth_curve_id, run_gcbm_query, write_yield_csv

# Flows to these pools exist in the demo's matrices but not in CBM-CFS3 (gcbm-spec.md §3 notes).
GCBM_ONLY_POOLS = {"BlackCarbon", "Peat"}
# cbm_defaults' proportions are float32 rounded to ~6 digits, and some rows sum to 1 + 1e-6 (the
# Wildfire matrix of the demo SPU has one): the builder rescales those rows to sum to 1, which moves
# their proportions by up to 1e-6 relative.
ROW_RESCALE_RTOL = 2e-6


def _connect(path) -> sqlite3.Connection:
    return closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True))


def _schema(path) -> dict[str, list[tuple]]:
    with _connect(path) as db:
        tables = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {table: [row[1:] for row in db.execute(f"PRAGMA table_info({table})")]
                for table in tables}


def _demo_curves(demo_db) -> list[dict[str, str]]:
    """The demo's classifier sets, one per growth curve, as a pixel would carry them."""
    with _connect(demo_db) as db:
        rows = db.execute(
            "SELECT g.growth_curve_id, c.name, cv.value FROM growth_curve_classifier_value AS g "
            "INNER JOIN classifier_value AS cv ON cv.id = g.classifier_value_id "
            "INNER JOIN classifier AS c ON c.id = cv.classifier_id ORDER BY g.growth_curve_id")
        sets = defaultdict(dict)
        for curve_id, name, value in rows:
            sets[curve_id][name] = value
    return list(sets.values())


def _pixel_variables(db, classifier_set) -> dict:
    variables = dict(DEMO_SPU)
    variables["growth_curve_id"] = growth_curve_id(db, classifier_set)
    variables["spatial_unit_id"] = db.execute(
        "SELECT spu.id FROM spatial_unit AS spu "
        "INNER JOIN admin_boundary AS a ON a.id = spu.admin_boundary_id "
        "INNER JOIN eco_boundary AS e ON e.id = spu.eco_boundary_id "
        "WHERE a.name = :admin_boundary AND e.name = :eco_boundary", variables).fetchone()[0]
    return variables


def _demo_answers(path, sql, classifier_set):
    with _connect(path) as db:
        try:
            return run_gcbm_query(db, sql, _pixel_variables(db, classifier_set))
        except sqlite3.OperationalError as err:
            return ("error", str(err))


def test_build_schema_equals_the_demo_schema(built_db, demo_db):
    built, demo = _schema(built_db), _schema(demo_db)
    assert sorted(built) == sorted(demo)
    for table in demo:  # column name, declared type, not null, default, primary key position
        assert built[table] == demo[table], table


def test_build_is_foreign_key_consistent(built_db):
    with _connect(built_db) as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_build_answers_every_demo_query_like_the_demo(built_db, demo_db, demo_queries):
    """Each SQL variable GCBM evaluates gives the same result shape and columns as on the demo db,
    for the pixel values of each of the demo's 10 strata."""
    assert {"spatial_unit_id", "softwood_yield_table", "hardwood_yield_table",
            "volume_to_biomass_parameters", "turnover_rates", "decay_parameters",
            "disturbance_matrices", "spinup_parameters"} <= demo_queries.keys()
    for classifier_set in _demo_curves(demo_db):
        for variable, sql in demo_queries.items():
            built = _demo_answers(built_db, sql, classifier_set)
            demo = _demo_answers(demo_db, sql, classifier_set)
            # The dead variable other_to_branch_snag_split fails on both (gcbm-spec.md §4).
            assert built[:2] == demo[:2], (variable, classifier_set)


def test_build_picks_each_demo_curve_for_its_classifier_set(built_db, demo_db):
    with _connect(built_db) as built, _connect(demo_db) as demo:
        for classifier_set in _demo_curves(demo_db):
            description = ",".join(classifier_set.values())
            (built_description,), = built.execute(
                "SELECT description FROM growth_curve WHERE id = ?",
                (growth_curve_id(built, classifier_set),))
            (demo_description,), = demo.execute(
                "SELECT description FROM growth_curve WHERE id = ?",
                (growth_curve_id(demo, classifier_set),))
            assert built_description == demo_description == description


@pytest.mark.parametrize("variable", ["decay_parameters", "spinup_parameters", "turnover_rates",
                                      "softwood_yield_table", "hardwood_yield_table"])
def test_build_gives_the_demo_values(variable, built_db, demo_db, demo_queries):
    """Parameters that cbm_defaults and the demo share: decay, spinup (return interval 125, 30
    rotations, Wildfire), turnover, and the yield tables (round trip)."""
    for classifier_set in _demo_curves(demo_db):
        _, columns, built_rows = _demo_answers(built_db, demo_queries[variable], classifier_set)
        _, _, demo_rows = _demo_answers(demo_db, demo_queries[variable], classifier_set)
        assert sorted(built_rows) == sorted(demo_rows), (variable, classifier_set)
    if variable == "spinup_parameters":
        assert dict(zip(columns, built_rows[0], strict=True)) == {
            "return_interval": 125, "max_rotations": 30, "historic_disturbance_type": "Wildfire",
            "last_pass_disturbance_type": "Wildfire",
            "mean_annual_temperature": pytest.approx(-1.09), "delay": 0}


def _spu_matrices(path, demo_queries, type_names):
    """{disturbance type: (cbm matrix id, {(source, sink): proportion})} for the demo SPU."""
    with _connect(path) as db:
        variables = _pixel_variables(db, {})
        _, _, associations = run_gcbm_query(db, demo_queries["disturbance_matrix_associations"],
                                            variables)
        _, _, values = run_gcbm_query(db, demo_queries["disturbance_matrices"], variables)
        names = dict(db.execute("SELECT id, name FROM disturbance_matrix"))
    matrices = defaultdict(dict)
    for matrix_id, source, sink, proportion in values:
        matrices[matrix_id][source, sink] = proportion
    return {dist_type: (int(names[matrix_id].split("_")[0]), matrices[matrix_id])
            for dist_type, spu, matrix_id in associations
            if spu == variables["spatial_unit_id"] and dist_type in type_names}


def test_build_fire_and_beetle_matrices_equal_the_demo(built_db, demo_db, demo_queries):
    with _connect(demo_db) as db:
        type_names = {name for (name,) in db.execute(
            "SELECT name FROM disturbance_type WHERE name = 'Wildfire' "
            "OR name LIKE 'Mountain pine beetle%'")}
    assert len(type_names) > 1
    built = _spu_matrices(built_db, demo_queries, type_names)
    demo = _spu_matrices(demo_db, demo_queries, type_names)
    assert built.keys() == demo.keys() == type_names
    for dist_type in type_names:
        (built_id, built_values), (demo_id, demo_values) = built[dist_type], demo[dist_type]
        assert built_id == demo_id, dist_type
        transfers = {key for key, value in demo_values.items()
                     if key[0] != key[1] and not GCBM_ONLY_POOLS & set(key)}
        assert {key for key in built_values if key[0] != key[1]} == transfers, dist_type
        for key in transfers:
            assert math.isclose(built_values[key], demo_values[key], rel_tol=ROW_RESCALE_RTOL), key
        row_sums = defaultdict(float)
        for (source, sink), value in demo_values.items():
            if not GCBM_ONLY_POOLS & {source, sink}:
                row_sums[source] += value
        for source, total in row_sums.items():  # a shortfall stays behind, an excess is scaled
            retained = demo_values.get((source, source), 0.0) + max(0.0, 1 - total)
            expected = retained / max(1.0, total)
            assert built_values.get((source, source), 0.0) == pytest.approx(expected, abs=1e-12)


def test_build_every_matrix_row_sums_to_one(built_db):
    with _connect(built_db) as db:
        sums = [total for (total,) in db.execute(
            "SELECT SUM(proportion) FROM disturbance_matrix_value "
            "GROUP BY disturbance_matrix_id, source_pool_id")]
        pools = {name for (name,) in db.execute(
            "SELECT p.name FROM disturbance_matrix_value AS v "
            "INNER JOIN pool AS p ON p.id = v.source_pool_id")}
        n_matrices = db.execute("SELECT COUNT(*) FROM disturbance_matrix").fetchone()[0]
    assert len(sums) == n_matrices * len(pools)  # every stock pool has a full row in every matrix
    assert max(abs(total - 1) for total in sums) < 1e-12
    assert {"BlackCarbon", "Peat", "SoftwoodMerch", "BelowGroundSlowSoil"} <= pools
    assert not pools & {"CO2", "CH4", "CO", "Atmosphere", "Products"}


def test_build_keeps_cbm_defaults_names_and_codes(built_db, cbm_defaults_path):
    with _connect(built_db) as db:
        codes = dict(db.execute("SELECT name, code FROM disturbance_type"))
        dm_names = [name for (name,) in db.execute("SELECT name FROM disturbance_matrix")]
        pools = [name for (name,) in db.execute("SELECT name FROM pool ORDER BY id")]
    with _connect(cbm_defaults_path) as cbm:
        expected = dict(cbm.execute(
            "SELECT tr.name, tr.disturbance_type_id FROM disturbance_type_tr AS tr "
            "INNER JOIN locale ON locale.id = tr.locale_id WHERE locale.code = 'en-CA'"))
        dm_ids = {matrix_id for (matrix_id,) in cbm.execute("SELECT id FROM disturbance_matrix")}
    assert codes == expected
    assert codes["Wildfire"] == 1 and codes["Mountain pine beetle — Low impact"] == 136
    assert {int(name.split("_", 1)[0]) for name in dm_names} == dm_ids
    assert pools[-3:] == ["Atmosphere", "BlackCarbon", "Peat"] and len(pools) == 29


def _cbm_table(cbm, sql) -> pd.DataFrame:
    return pd.read_sql_query(sql, cbm)


def test_vol_to_bio_association_resolves_species_then_genus_then_forest_type(
        built_db, cbm_defaults_path):
    """Oracle: CBM-CFS3's fall-back, computed here with pandas from cbm_defaults' own tables."""
    factor_columns = ["a", "b", "a_nonmerch", "b_nonmerch", "k_nonmerch", "cap_nonmerch",
                      "a_sap", "b_sap", "k_sap", "cap_sap", "min_volume", "max_volume",
                      "low_foliage_prop", "high_foliage_prop"]
    with _connect(cbm_defaults_path) as cbm:
        species = _cbm_table(cbm, "SELECT id AS species_id, genus_id, forest_type_id FROM species")
        factors = _cbm_table(cbm, "SELECT * FROM vol_to_bio_factor").rename(
            columns={"id": "vol_to_bio_factor_id"})
        levels = [
            _cbm_table(cbm, "SELECT * FROM vol_to_bio_species"),
            _cbm_table(cbm, "SELECT * FROM vol_to_bio_genus").merge(species, on="genus_id"),
            _cbm_table(cbm, "SELECT * FROM vol_to_bio_forest_type").merge(
                species, on="forest_type_id"),
        ]
    expected = (pd.concat([level.assign(level=i)[["spatial_unit_id", "species_id", "level",
                                                   "vol_to_bio_factor_id"]]
                           for i, level in enumerate(levels)])
                .sort_values("level").drop_duplicates(["spatial_unit_id", "species_id"])
                .merge(factors, on="vol_to_bio_factor_id"))
    with _connect(built_db) as db:
        built = pd.read_sql_query(
            "SELECT fa.spatial_unit_id, fa.species_id, f.* FROM vol_to_bio_factor_association "
            "AS fa INNER JOIN vol_to_bio_factor AS f ON f.id = fa.vol_to_bio_factor_id", db)
    merged = expected.merge(built, on=["spatial_unit_id", "species_id"], how="outer",
                            suffixes=("_expected", "_built"), indicator=True)
    assert (merged["_merge"] == "both").all()
    for column in factor_columns:
        pd.testing.assert_series_equal(merged[f"{column}_built"], merged[f"{column}_expected"],
                                       check_names=False)
    assert (merged["level"] > 0).any()  # the fall-back was exercised


def test_turnover_is_the_ecozone_rate_of_the_genus_forest_type(built_db, cbm_defaults_path):
    with _connect(cbm_defaults_path) as cbm:
        ecozones = {row[0]: row[1:] for row in cbm.execute(
            "SELECT tr.name, t.sw_foliage, t.hw_foliage, t.sw_branch, t.hw_branch "
            "FROM eco_boundary AS e INNER JOIN eco_boundary_tr AS tr ON tr.eco_boundary_id = e.id "
            "AND tr.locale_id = 1 INNER JOIN turnover_parameter AS t "
            "ON t.id = e.turnover_parameter_id")}
    with _connect(built_db) as db:
        rows = db.execute(
            "SELECT g.name, e.name, t.foliage, t.branch FROM turnover_parameter_association AS a "
            "INNER JOIN genus AS g ON g.id = a.genus_id "
            "INNER JOIN eco_boundary AS e ON e.id = a.eco_boundary_id "
            "INNER JOIN turnover_parameter AS t ON t.id = a.turnover_parameter_id").fetchall()
        n_genera = db.execute("SELECT COUNT(*) FROM genus").fetchone()[0]
    assert len(rows) == n_genera * len(ecozones)
    hardwood_genera = {"Poplar", "Birch", "Maple", "Other broad-leaved species",
                       "Unspecified broad-leaved species", "Not applicable"}
    for genus, ecozone, foliage, branch in rows:
        sw_foliage, hw_foliage, sw_branch, hw_branch = ecozones[ecozone]
        expected = (hw_foliage, hw_branch) if genus in hardwood_genera else (sw_foliage, sw_branch)
        assert (foliage, branch) == expected, (genus, ecozone)


def test_build_long_layout_gives_the_same_curves(demo_db, built_db, cbm_defaults_path, tmp_path):
    write_yield_csv(demo_db, tmp_path / "long.csv", long=True)
    build_input_db(tmp_path / "long.db", yield_tables=tmp_path / "long.csv",
                   cbm_defaults_path=cbm_defaults_path, **DEMO_SPU)
    query = ("SELECT gc.description, s.name, v.age, v.merchantable_volume FROM growth_curve AS gc "
             "INNER JOIN growth_curve_component AS gcc ON gcc.growth_curve_id = gc.id "
             "INNER JOIN species AS s ON s.id = gcc.species_id INNER JOIN "
             "growth_curve_component_value AS v ON v.growth_curve_component_id = gcc.id")
    with _connect(tmp_path / "long.db") as long, _connect(built_db) as wide:
        assert sorted(long.execute(query)) == sorted(wide.execute(query))


def test_build_mixed_stand_and_wildcard_curve(cbm_defaults_path, demo_queries, tmp_path):
    (tmp_path / "mixed.csv").write_text(
        "leading,site,species,0,10,20\n"
        "BS,G,Black spruce,0,10,30\n"
        "BS,G,trembling ASPEN,0,5,8\n"          # species match case-insensitively
        "?,G,White spruce,0,1,2\n")
    summary = build_input_db(tmp_path / "mixed.db", yield_tables=tmp_path / "mixed.csv",
                             cbm_defaults_path=cbm_defaults_path, **DEMO_SPU)
    assert (summary.n_growth_curves, summary.n_components) == (2, 3)
    with _connect(tmp_path / "mixed.db") as db:
        assert [name for (name,) in db.execute("SELECT name FROM classifier ORDER BY id")] == \
            ["leading", "site"]
        assert db.execute("SELECT COUNT(*) FROM classifier_value WHERE value = '?'").fetchone() \
            == (2,)  # one wildcard per classifier, the yield table's own '?' included
        mixed = growth_curve_id(db, {"leading": "BS", "site": "G"})
        other = growth_curve_id(db, {"leading": "JP", "site": "G"})  # only the wildcard matches
        assert (mixed, other) == (1, 2)
        variables = {**_pixel_variables(db, {"leading": "BS", "site": "G"})}
        _, _, softwood = run_gcbm_query(db, demo_queries["softwood_yield_table"], variables)
        _, _, hardwood = run_gcbm_query(db, demo_queries["hardwood_yield_table"], variables)
        shape, _, factors = run_gcbm_query(
            db, demo_queries["volume_to_biomass_parameters"], variables)
        _, columns, turnover = run_gcbm_query(db, demo_queries["turnover_rates"], variables)
    assert sorted(softwood) == [(0, 0.0), (10, 10.0), (20, 30.0)]
    assert sorted(hardwood) == [(0, 0.0), (10, 5.0), (20, 8.0)]
    assert shape == "list of dicts" and sorted(row[0] for row in factors) == ["Hardwood",
                                                                              "Softwood"]
    rates = dict(zip(columns, turnover[0], strict=True))
    assert rates["sw_foliage_turnover"] == pytest.approx(0.05)
    assert rates["hw_foliage_turnover"] == pytest.approx(0.95)


def test_build_in_french_keeps_gcbm_names(cbm_defaults_path, demo_queries, tmp_path):
    """Names follow the locale, except those GCBM's SQL compares with English literals."""
    (tmp_path / "fr.csv").write_text("strate,species,0,10,20\nA,Sapin baumier,0,4,9\n")
    build_input_db(tmp_path / "fr.db", yield_tables=tmp_path / "fr.csv",
                   cbm_defaults_path=cbm_defaults_path, admin_boundary="Colombie-Britannique",
                   eco_boundary="Taïga des plaines", locale="fr-CA")
    with _connect(tmp_path / "fr.db") as db:
        assert {name for (name,) in db.execute("SELECT name FROM forest_type")} >= {
            "Softwood", "Hardwood"}
        assert db.execute("SELECT name FROM disturbance_type WHERE code = 1").fetchone()[0] \
            != "Wildfire"
        variables = {"admin_boundary": "Colombie-Britannique",
                     "eco_boundary": "Taïga des plaines", "growth_curve_id": 1}
        _, _, softwood = run_gcbm_query(db, demo_queries["softwood_yield_table"], variables)
    assert sorted(softwood) == [(0, 0.0), (10, 4.0), (20, 9.0)]


def test_build_replaces_the_output_only_when_complete(built_db, cbm_defaults_path, tmp_path,
                                                      demo_yield_csv):
    output = tmp_path / "gcbm_input.db"
    output.write_bytes(b"previous")
    bad = tmp_path / "bad.csv"
    bad.write_text("c,species,0,10\nA,Balsam fir,0,-1\n")
    with pytest.raises(Exception, match="negative volume"):
        build_input_db(output, yield_tables=bad, cbm_defaults_path=cbm_defaults_path, **DEMO_SPU)
    with pytest.raises(Exception, match="unknown eco boundary"):
        build_input_db(output, yield_tables=demo_yield_csv, cbm_defaults_path=cbm_defaults_path,
                       admin_boundary="British Columbia", eco_boundary="Nowhere")
    assert output.read_bytes() == b"previous"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.csv", "gcbm_input.db"]
    build_input_db(output, yield_tables=demo_yield_csv, cbm_defaults_path=cbm_defaults_path,
                   **DEMO_SPU)
    assert _schema(output) == _schema(built_db)
