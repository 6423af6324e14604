// What the names mean, for the configuration editor and the results (after GCBM's documentation
// and docs/gcbm-spec.md; FLINT-UI kept similar tables in gcbmModuleDescriptions.json). What
// each module does comes from the API (GET /simulations/modules), which declares them.

export const VARIABLES = {
  enable_peatland: "Simulate peatland carbon (needs peatland parameters in the input database).",
  enable_moss: "Simulate moss carbon (needs moss parameters in the input database).",
  admin_boundary: "Administrative boundary: with the eco boundary it selects the spatial unit (parameters).",
  eco_boundary: "Ecological boundary: with the admin boundary it selects the spatial unit (parameters).",
  initial_historic_land_class: "Land class before the simulation (FL = forest land).",
  initial_current_land_class: "Land class at the start of the simulation (FL = forest land).",
  age_class_range: "Width of an age class, in years.",
  age_maximum: "Oldest age class, in years.",
  slow_ag_to_bg_mixing_rate: "Yearly share of the above-ground slow pool mixed into the below-ground slow pool.",
};

// The settings of a simulation (GET/PATCH /simulations/{id}/config): a label and what each
// means. Their types, ranges and defaults come from the API's JSON schema (/openapi.json).
export const SETTINGS = {
  start_year: { label: "First year", hint: "The first simulated year.", placeholder: "the first disturbance year" },
  end_year: { label: "Last year", hint: "The last simulated year (included).", placeholder: "the last disturbance year" },
  admin_boundary: { label: "Administrative boundary", placeholder: "the database's only one",
    hint: "With the ecological boundary it selects the spatial unit: its growth, decay and spinup parameters and disturbance matrices." },
  eco_boundary: { label: "Ecological boundary", placeholder: "the database's only one",
    hint: "Left empty (both), the input database's only spatial unit, if it has just one." },
  align: { label: "Rasters off the first classifier's grid", empty: "Reject them (default)",
    options: { reject: "Reject them", reproject: "Reproject them onto the grid" },
    hint: "Reprojected rasters are resampled by nearest neighbour (bilinear for the temperature layer)." },
  "spinup.enabled": { label: "Spin up the pools",
    hint: "Fill the dead organic matter and soil pools before the simulation with repeated growth and stand-replacing disturbances until they stabilise." },
  "spinup.minimum_rotation": { label: "Minimum rotations", hint: "Fewest growth–disturbance rotations in spinup." },
  "spinup.parameters": { label: "Give the spinup parameters here",
    hint: "Off: the spatial unit's parameters from the input database. On: these values for every pixel." },
  "spinup.parameters.return_interval": { label: "Return interval (years)", hint: "Years between two historic disturbances." },
  "spinup.parameters.max_rotations": { label: "Maximum rotations", hint: "Most rotations, whether the pools are stable or not." },
  "spinup.parameters.historic_disturbance_type": { label: "Historic disturbance type", list: "disturbance_types",
    hint: "The disturbance repeated during spinup (e.g. Wildfire)." },
  "spinup.parameters.last_pass_disturbance_type": { label: "Last-pass disturbance type", list: "disturbance_types",
    hint: "The last disturbance before the simulation starts." },
  "spinup.parameters.delay": { label: "Delay (years)", hint: "Years between the last disturbance and regrowth." },
  "growth.smoother_enabled": { label: "Smooth the growth curves",
    hint: "GCBM's smoother of the yield curves' young ages (CBMGrowthModule)." },
  "outputs.geotiff_indicators": { label: "Indicator maps",
    hint: "The indicators written as maps (GeoTIFFs) every year; the Results step shows them. None: no maps." },
  "outputs.results_database": { label: "Results database",
    hint: "Write the aggregated results to gcbm_output.db: the annual summary and its charts come from it." },
  "layers.year": { label: "Year of the events", hint: "For the rows without a year." },
};

export const POOLS = {
  SoftwoodMerch: "Softwood merchantable stemwood", SoftwoodFoliage: "Softwood foliage",
  SoftwoodOther: "Softwood other wood (branches, tops, stumps, small trees)",
  SoftwoodCoarseRoots: "Softwood coarse roots", SoftwoodFineRoots: "Softwood fine roots",
  HardwoodMerch: "Hardwood merchantable stemwood", HardwoodFoliage: "Hardwood foliage",
  HardwoodOther: "Hardwood other wood", HardwoodCoarseRoots: "Hardwood coarse roots",
  HardwoodFineRoots: "Hardwood fine roots",
  AboveGroundVeryFastSoil: "Litter: foliage and fine litter (decays in a few years)",
  BelowGroundVeryFastSoil: "Dead fine roots", AboveGroundFastSoil: "Fine and small woody debris",
  BelowGroundFastSoil: "Dead coarse roots", MediumSoil: "Coarse woody debris",
  AboveGroundSlowSoil: "Humified organic layer (forest floor)", BelowGroundSlowSoil: "Humified mineral soil",
  SoftwoodStemSnag: "Softwood standing dead stems", SoftwoodBranchSnag: "Softwood standing dead branches",
  HardwoodStemSnag: "Hardwood standing dead stems", HardwoodBranchSnag: "Hardwood standing dead branches",
  CO2: "Emitted carbon dioxide", CH4: "Emitted methane", CO: "Emitted carbon monoxide", NO2: "Emitted nitrous oxide",
  Atmosphere: "The atmosphere: growth takes carbon from it, so it goes negative",
  Products: "Harvested wood products", BlackCarbon: "Black carbon (not in CBM-CFS3)",
  Peat: "Peat (peatland module)", DissolvedOrganicCarbon: "Dissolved organic carbon",
};

export const POINT_POOLS = { "Pool 1": "Example pool 1", "Pool 2": "Example pool 2", "Pool 3": "Example pool 3" };

export const ROTHC_INITIAL = {
  dpmaCMInit: "Decomposable plant material (DPM), t C/ha",
  rpmaCMInit: "Resistant plant material (RPM), t C/ha",
  biofCMInit: "Fast microbial biomass (BioF), t C/ha",
  biosCMInit: "Slow microbial biomass (BioS), t C/ha",
  humsCMInit: "Humified organic matter (HUM), t C/ha",
  inrtCMInit: "Inert organic matter (IOM), t C/ha",
  TSMDInit: "Topsoil moisture deficit at the start, mm",
};

export const ROTHC_SERIES = {
  rainfall: "Rainfall (mm)",
  openPanEvap: "Open-pan evaporation (mm)",
  avgAirTemp: "Mean air temperature (°C)",
  presCM: "Plant residue input (t C/ha)",
  soilCover: "Soil cover (0–1)",
};

// The annual summary's columns (GET /simulations/{id}/summary), grouped as the results charts show them.
export const SUMMARY_GROUPS = [
  { title: "Carbon stocks", unit: "t C", type: "line", fields: {
    total_ecosystem_tc: "Ecosystem", total_biomass_tc: "Biomass",
    dead_organic_matter_tc: "Dead organic matter", soil_tc: "Soil" } },
  { title: "Carbon fluxes", unit: "t C/yr", type: "line", fields: {
    npp_tc_per_yr: "NPP", rh_tc_per_yr: "Rh", nep_tc_per_yr: "NEP", nbp_tc_per_yr: "NBP" } },
  { title: "Emissions", unit: "t C/yr", type: "bar", stacked: true, fields: {
    co2_emissions_tc_per_yr: "CO₂", ch4_emissions_tc_per_yr: "CH₄", co_emissions_tc_per_yr: "CO" } },
  { title: "Disturbed area by type", unit: "ha", type: "bar", stacked: true, pattern: /^disturbed_area_ha\[(.+)\]$/ },
];

export const SUMMARY_LABELS = {
  year: "Year", area_ha: "Area (ha)", npp_tc_per_yr: "NPP (t C/yr)", rh_tc_per_yr: "Rh (t C/yr)",
  nep_tc_per_yr: "NEP (t C/yr)", nbp_tc_per_yr: "NBP (t C/yr)", total_ecosystem_tc: "Ecosystem (t C)",
  total_biomass_tc: "Biomass (t C)", dead_organic_matter_tc: "DOM (t C)", soil_tc: "Soil (t C)",
  co2_emissions_tc_per_yr: "CO₂ emissions (t C/yr)", ch4_emissions_tc_per_yr: "CH₄ emissions (t C/yr)",
  co_emissions_tc_per_yr: "CO emissions (t C/yr)",
};
