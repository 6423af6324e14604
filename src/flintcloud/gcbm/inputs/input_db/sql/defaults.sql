-- CBM-CFS3 default parameters: cbm_defaults (attached as `cbm`) -> gcbm_input.db.
--
-- Runs after schema.sql, with a temporary table `build_locale (locale_id)` holding the cbm_defaults
-- locale whose names are used. Ids are kept from cbm_defaults wherever GCBM's schema allows
-- (spatial units, boundaries, species, pools, disturbance matrices), so a row can be traced back;
-- GCBM itself only ever joins on names.

-- Static tables: not in cbm_defaults; the values GCBM.InputLoader writes ------------------------
INSERT INTO disturbance_category (id, code, description) VALUES
  (1, 'A', 'Anthropogenic influence'),
  (2, 'N', 'Naturally disturbed');

INSERT INTO transition_type (id, name) VALUES (1, 'absolute'), (2, 'relative'), (3, 'yield');

INSERT INTO accounting_rule_type (id, name, spinup) VALUES
  (1, 'years_since_last_pass_disturbance', 1),
  (2, 'years_since_disturbance', 0),
  (3, 'ag_biomass', 0),
  (4, 'total_biomass', 0),
  (5, 'total_eco', 0);

-- GCBM's land classes are cbm_defaults' land types; cbm_defaults has no description for them, and
-- years_to_permanent is its transitional period (20 years, 10 for wetlands). WLP (peatland
-- wetland) is not in GCBM.InputLoader's list but peat-mining deforestation types move land to it.
WITH static (land_type, description, is_forest, years_to_permanent) AS (
  VALUES ('FL', 'Forest land', 1, 20),
         ('UFL', 'Unmanaged forest land', 1, 20),
         ('CL', 'Cropland', 0, 20),
         ('GL', 'Grassland', 0, 20),
         ('WL', 'Wetland', 0, 10),
         ('WLP', 'Wetland (peatland)', 0, 20),
         ('SL', 'Settlements', 0, 20),
         ('OL', 'Other land', 0, 20))
INSERT INTO land_class (code, description, is_forest, years_to_permanent)
SELECT lt.land_type, static.description, static.is_forest, static.years_to_permanent
FROM cbm.land_type AS lt
INNER JOIN static ON static.land_type = lt.land_type
ORDER BY lt.id;

-- Pools: cbm_defaults' pool codes are GCBM's pool names. GCBM's growth source is `Atmosphere`
-- (cbm_defaults' pool 0, `Input`, is never referenced by a matrix) and it adds BlackCarbon and Peat.
INSERT INTO pool (id, name) SELECT id, code FROM cbm.pool WHERE id > 0 ORDER BY id;
INSERT INTO pool (name) VALUES ('Atmosphere'), ('BlackCarbon'), ('Peat');

INSERT INTO dom_pool (id, pool_id)
SELECT dp.id, pool.id
FROM cbm.dom_pool AS dp
INNER JOIN cbm.pool AS cbm_pool ON cbm_pool.id = dp.pool_id
INNER JOIN pool ON pool.name = cbm_pool.code;

INSERT INTO decay_parameter
  (dom_pool_id, base_decay_rate, reference_temp, q10, prop_to_atmosphere, max_rate)
SELECT dom_pool_id, base_decay_rate, reference_temp, q10, prop_to_atmosphere, max_rate
FROM cbm.decay_parameter;

-- Boundaries, stump parameters -------------------------------------------------------------------
-- GCBM's stump_parameter rows are unique; cbm_defaults repeats identical rows for several
-- provinces, so each province points to the lowest id holding its values.
CREATE TEMPORARY TABLE stump_parameter_map AS
SELECT id AS cbm_id,
       MIN(id) OVER (PARTITION BY sw_top_proportion, sw_stump_proportion,
                                  hw_top_proportion, hw_stump_proportion) AS id
FROM cbm.stump_parameter;

INSERT INTO stump_parameter
  (id, sw_top_proportion, sw_stump_proportion, hw_top_proportion, hw_stump_proportion)
SELECT id, sw_top_proportion, sw_stump_proportion, hw_top_proportion, hw_stump_proportion
FROM cbm.stump_parameter
WHERE id IN (SELECT id FROM stump_parameter_map)
ORDER BY id;

-- GCBM has a region per boundary; cbm_defaults has no regions, so each boundary is its own.
INSERT INTO admin_region (id, name)
SELECT a.id, tr.name
FROM cbm.admin_boundary AS a
INNER JOIN cbm.admin_boundary_tr AS tr
  ON tr.admin_boundary_id = a.id AND tr.locale_id = (SELECT locale_id FROM build_locale);

INSERT INTO admin_boundary (id, name, admin_region_id, stump_parameter_id)
SELECT a.id, region.name, a.id, map.id
FROM cbm.admin_boundary AS a
INNER JOIN admin_region AS region ON region.id = a.id
INNER JOIN stump_parameter_map AS map ON map.cbm_id = a.stump_parameter_id;

INSERT INTO eco_region (id, name)
SELECT e.id, tr.name
FROM cbm.eco_boundary AS e
INNER JOIN cbm.eco_boundary_tr AS tr
  ON tr.eco_boundary_id = e.id AND tr.locale_id = (SELECT locale_id FROM build_locale);

INSERT INTO eco_boundary (id, name, eco_region_id)
SELECT id, name, id FROM eco_region;

-- Disturbance types ------------------------------------------------------------------------------
-- `code` is the cbm_defaults id (what layers and outputs carry); `id` is a row number, because
-- cbm_defaults' "Unknown" type has id 0. cbm_defaults does not say which types are natural, so
-- all are in category A, as GCBM.InputLoader does.
INSERT INTO disturbance_type (disturbance_category_id, transition_land_class_id, name, code)
SELECT 1, lc.id, tr.name, dt.id
FROM cbm.disturbance_type AS dt
INNER JOIN cbm.disturbance_type_tr AS tr
  ON tr.disturbance_type_id = dt.id AND tr.locale_id = (SELECT locale_id FROM build_locale)
LEFT JOIN cbm.land_type AS lt ON lt.id = dt.land_type_id
LEFT JOIN land_class AS lc ON lc.code = lt.land_type
ORDER BY dt.id;

-- Spinup: cbm_defaults has no historic disturbance type (libcbm defaults it to wildfire, code 1)
-- and keeps min_rotations, which GCBM takes from spinup.json instead.
INSERT INTO spinup_parameter
  (id, historic_disturbance_type_id, return_interval, max_rotations, mean_annual_temperature)
SELECT sp.id, (SELECT id FROM disturbance_type WHERE code = 1), sp.return_interval,
       sp.max_rotations, sp.historic_mean_temperature
FROM cbm.spinup_parameter AS sp;

INSERT INTO spatial_unit (id, admin_boundary_id, eco_boundary_id, spinup_parameter_id)
SELECT id, admin_boundary_id, eco_boundary_id, spinup_parameter_id FROM cbm.spatial_unit;

-- Species ----------------------------------------------------------------------------------------
-- Forest type names stay English whatever the locale: GCBM's SQL compares them with the literals
-- 'Softwood' and 'Hardwood'.
INSERT INTO forest_type (id, name)
SELECT ft.id, tr.name
FROM cbm.forest_type AS ft
INNER JOIN cbm.forest_type_tr AS tr ON tr.forest_type_id = ft.id
INNER JOIN cbm.locale ON locale.id = tr.locale_id AND locale.code = 'en-CA';

INSERT INTO genus (id, name)
SELECT g.id, tr.name
FROM cbm.genus AS g
INNER JOIN cbm.genus_tr AS tr
  ON tr.genus_id = g.id AND tr.locale_id = (SELECT locale_id FROM build_locale);

INSERT INTO species (id, name, forest_type_id, genus_id)
SELECT s.id, tr.name, s.forest_type_id, s.genus_id
FROM cbm.species AS s
INNER JOIN cbm.species_tr AS tr
  ON tr.species_id = s.id AND tr.locale_id = (SELECT locale_id FROM build_locale);

-- Volume to biomass --------------------------------------------------------------------------------
INSERT INTO root_parameter (id, hw_a, sw_a, hw_b, frp_a, frp_b, frp_c)
SELECT id, hw_a, sw_a, hw_b, frp_a, frp_b, frp_c FROM cbm.root_parameter;

-- GCBM's factor rows are unique; cbm_defaults repeats identical rows (one per SPU and level).
CREATE TEMPORARY TABLE vol_to_bio_factor_map AS
SELECT id AS cbm_id,
       MIN(id) OVER (PARTITION BY a, b, a_nonmerch, b_nonmerch, k_nonmerch, cap_nonmerch,
                                  a_sap, b_sap, k_sap, cap_sap, a1, a2, a3, b1, b2, b3, c1, c2, c3,
                                  min_volume, max_volume, low_stemwood_prop, high_stemwood_prop,
                                  low_stembark_prop, high_stembark_prop, low_branches_prop,
                                  high_branches_prop, low_foliage_prop, high_foliage_prop) AS id
FROM cbm.vol_to_bio_factor;

INSERT INTO vol_to_bio_factor
SELECT id, a, b, a_nonmerch, b_nonmerch, k_nonmerch, cap_nonmerch, a_sap, b_sap, k_sap, cap_sap,
       a1, a2, a3, b1, b2, b3, c1, c2, c3, min_volume, max_volume,
       low_stemwood_prop, high_stemwood_prop, low_stembark_prop, high_stembark_prop,
       low_branches_prop, high_branches_prop, low_foliage_prop, high_foliage_prop
FROM cbm.vol_to_bio_factor
WHERE id IN (SELECT id FROM vol_to_bio_factor_map)
ORDER BY id;

-- One row per (spatial unit, species): CBM-CFS3 takes the species' own factors in that spatial
-- unit, else its genus', else its forest type's. GCBM does no fall-back, so resolve it here.
INSERT INTO vol_to_bio_factor_association
  (spatial_unit_id, species_id, vol_to_bio_factor_id, root_parameter_id)
WITH candidate (level, spatial_unit_id, species_id, cbm_factor_id) AS (
  SELECT 1, spatial_unit_id, species_id, vol_to_bio_factor_id FROM cbm.vol_to_bio_species
  UNION ALL
  SELECT 2, v.spatial_unit_id, s.id, v.vol_to_bio_factor_id
  FROM cbm.vol_to_bio_genus AS v INNER JOIN cbm.species AS s ON s.genus_id = v.genus_id
  UNION ALL
  SELECT 3, v.spatial_unit_id, s.id, v.vol_to_bio_factor_id
  FROM cbm.vol_to_bio_forest_type AS v INNER JOIN cbm.species AS s
    ON s.forest_type_id = v.forest_type_id
), ranked AS (
  SELECT spatial_unit_id, species_id, cbm_factor_id,
         ROW_NUMBER() OVER (PARTITION BY spatial_unit_id, species_id ORDER BY level) AS rank
  FROM candidate
)
SELECT ranked.spatial_unit_id, ranked.species_id, map.id, spu.root_parameter_id
FROM ranked
INNER JOIN vol_to_bio_factor_map AS map ON map.cbm_id = ranked.cbm_factor_id
INNER JOIN cbm.spatial_unit AS spu ON spu.id = ranked.spatial_unit_id
WHERE ranked.rank = 1
ORDER BY ranked.spatial_unit_id, ranked.species_id;

-- Turnover ---------------------------------------------------------------------------------------
-- cbm_defaults has one row per ecozone with softwood and hardwood columns; GCBM has one row per
-- (genus, ecozone). A genus takes the softwood or hardwood side of its ecozone's row by the forest
-- type of most of its species (mixedwood counts as hardwood, as in GCBM.InputLoader).
CREATE TEMPORARY TABLE genus_side AS
SELECT genus_id,
       CASE WHEN SUM(forest_type_id IN (2, 3)) > SUM(forest_type_id = 1) THEN 'hw' ELSE 'sw' END
         AS side
FROM cbm.species
GROUP BY genus_id;

CREATE TEMPORARY TABLE turnover_side AS
SELECT id AS cbm_id, 'sw' AS side, sw_foliage AS foliage, stem_turnover AS stem,
       sw_branch AS branch, sw_stem_snag AS stem_snag, sw_branch_snag AS branch_snag,
       coarse_root, fine_root, branch_snag_split, coarse_ag_split, fine_ag_split
FROM cbm.turnover_parameter
UNION ALL
SELECT id, 'hw', hw_foliage, stem_turnover, hw_branch, hw_stem_snag, hw_branch_snag,
       coarse_root, fine_root, branch_snag_split, coarse_ag_split, fine_ag_split
FROM cbm.turnover_parameter;

INSERT INTO turnover_parameter
  (foliage, stem, branch, stem_snag, branch_snag, coarse_root, fine_root,
   branch_snag_split, coarse_ag_split, fine_ag_split)
SELECT DISTINCT foliage, stem, branch, stem_snag, branch_snag, coarse_root, fine_root,
       branch_snag_split, coarse_ag_split, fine_ag_split
FROM turnover_side
ORDER BY foliage, stem, branch, stem_snag, branch_snag, coarse_root, fine_root,
         branch_snag_split, coarse_ag_split, fine_ag_split;

INSERT INTO turnover_parameter_association (genus_id, eco_boundary_id, turnover_parameter_id)
SELECT g.genus_id, e.id, tp.id
FROM genus_side AS g
CROSS JOIN cbm.eco_boundary AS e
INNER JOIN turnover_side AS t ON t.cbm_id = e.turnover_parameter_id AND t.side = g.side
INNER JOIN turnover_parameter AS tp
  ON tp.foliage = t.foliage AND tp.stem = t.stem AND tp.branch = t.branch
  AND tp.stem_snag = t.stem_snag AND tp.branch_snag = t.branch_snag
  AND tp.coarse_root = t.coarse_root AND tp.fine_root = t.fine_root
  AND tp.branch_snag_split = t.branch_snag_split AND tp.coarse_ag_split = t.coarse_ag_split
  AND tp.fine_ag_split = t.fine_ag_split
ORDER BY g.genus_id, e.id;

-- Disturbance matrices ---------------------------------------------------------------------------
-- The name carries the cbm_defaults matrix id as a prefix, as GCBM.InputLoader writes it.
INSERT INTO disturbance_matrix (id, name)
SELECT dm.id, dm.id || '_' || tr.name
FROM cbm.disturbance_matrix AS dm
INNER JOIN cbm.disturbance_matrix_tr AS tr
  ON tr.disturbance_matrix_id = dm.id AND tr.locale_id = (SELECT locale_id FROM build_locale);

INSERT INTO disturbance_matrix_value (disturbance_matrix_id, source_pool_id, sink_pool_id, proportion)
SELECT v.disturbance_matrix_id, source.id, sink.id, v.proportion
FROM cbm.disturbance_matrix_value AS v
INNER JOIN cbm.pool AS cbm_source ON cbm_source.id = v.source_pool_id
INNER JOIN pool AS source ON source.name = cbm_source.code
INNER JOIN cbm.pool AS cbm_sink ON cbm_sink.id = v.sink_pool_id
INNER JOIN pool AS sink ON sink.name = cbm_sink.code;

-- Complete every row so that it sums to 1. cbm_defaults stores float32 proportions, so rows fall
-- short of 1 by up to 1.3e-3 (or exceed it by 1e-6): the shortfall stays in the source pool (what
-- GCBM does with it anyway), an excess is scaled away (it would create carbon). Sums within 1e-12
-- of 1 are double rounding and left alone. The sums are taken before anything changes.
CREATE TEMPORARY TABLE disturbance_matrix_row AS
SELECT disturbance_matrix_id, source_pool_id, SUM(proportion) AS total
FROM disturbance_matrix_value
GROUP BY disturbance_matrix_id, source_pool_id;

UPDATE disturbance_matrix_value
SET proportion = proportion / (
  SELECT total FROM disturbance_matrix_row AS row
  WHERE row.disturbance_matrix_id = disturbance_matrix_value.disturbance_matrix_id
    AND row.source_pool_id = disturbance_matrix_value.source_pool_id)
WHERE (disturbance_matrix_id, source_pool_id) IN (
  SELECT disturbance_matrix_id, source_pool_id FROM disturbance_matrix_row WHERE total > 1 + 1e-12);

INSERT INTO disturbance_matrix_value (disturbance_matrix_id, source_pool_id, sink_pool_id, proportion)
SELECT disturbance_matrix_id, source_pool_id, source_pool_id, 1 - total
FROM disturbance_matrix_row
WHERE total < 1 - 1e-12
ON CONFLICT (disturbance_matrix_id, source_pool_id, sink_pool_id)
  DO UPDATE SET proportion = proportion + excluded.proportion;

-- A pool a matrix does not mention keeps its carbon: write that as a diagonal 1, for every pool
-- that holds carbon (any matrix' source pools, plus GCBM's BlackCarbon and Peat).
INSERT INTO disturbance_matrix_value (disturbance_matrix_id, source_pool_id, sink_pool_id, proportion)
SELECT dm.id, stock.pool_id, stock.pool_id, 1.0
FROM disturbance_matrix AS dm
CROSS JOIN (
  SELECT DISTINCT source_pool_id AS pool_id FROM disturbance_matrix_value
  UNION
  SELECT id FROM pool WHERE name IN ('BlackCarbon', 'Peat')
) AS stock
WHERE NOT EXISTS (
  SELECT 1 FROM disturbance_matrix_value AS v
  WHERE v.disturbance_matrix_id = dm.id AND v.source_pool_id = stock.pool_id)
ORDER BY dm.id, stock.pool_id;

INSERT INTO disturbance_matrix_association (spatial_unit_id, disturbance_type_id, disturbance_matrix_id)
SELECT dma.spatial_unit_id, dt.id, dma.disturbance_matrix_id
FROM cbm.disturbance_matrix_association AS dma
INNER JOIN disturbance_type AS dt ON dt.code = dma.disturbance_type_id
ORDER BY dma.spatial_unit_id, dt.id;

-- Growth multipliers (used only by GCBM's optional GrowthMultiplierModule) ------------------------
INSERT INTO growth_multiplier_series (id, description)
SELECT gms.id, dt.name
FROM cbm.growth_multiplier_series AS gms
INNER JOIN disturbance_type AS dt ON dt.code = gms.disturbance_type_id;

INSERT INTO growth_multiplier_series_association (disturbance_type_id, growth_multiplier_series_id)
SELECT dt.id, gms.id
FROM cbm.growth_multiplier_series AS gms
INNER JOIN disturbance_type AS dt ON dt.code = gms.disturbance_type_id;

INSERT INTO growth_multiplier_value (growth_multiplier_series_id, forest_type_id, time_step, value)
SELECT growth_multiplier_series_id, forest_type_id, time_step, value
FROM cbm.growth_multiplier_value;
