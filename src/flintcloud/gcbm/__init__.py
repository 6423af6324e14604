"""GCBM (the Generic Carbon Budget Model, CBM-CFS3 on FLINT): everything specific to it.

Inner layers, importing downwards only (checked by import-linter):

- `reproduce`: what `flintcloud.repro` needs to make a run again, export it to DVC and report
  it (options from a manifest, editable settings, the command line, the annual indicators).
- `run`: run a project: blocks as tasks on an executor (here, a process pool, Dask), merged
  deterministically, with every output; progress as events.
- `outputs/`: results database, results tables, GeoTIFFs and mosaics, compiled indicators, the
  layout of a run's folder (names and units). `inputs/`: raw rasters, attribute tables and an
  input database made into a runnable project; settings; validation. Neither imports the other.
- `project/`: a project as upstream lays it out: config, provider, rasters, blocks, SQL variables,
  parameters read from its database.
- `science/`: CBM-CFS3 on the FLINT engine: pure functions of parameter tables and pixel arrays.

It uses `flint/` (the engine) and `io/` (file formats); it never imports the service or the CLI.
"""
