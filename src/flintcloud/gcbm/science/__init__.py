"""CBM-CFS3 on the FLINT engine: pools, growth curves, spinup, disturbances, transitions, decay,
turnover and the landscape results. Pure functions of the parameter tables and pixel arrays they
are handed: no files, no SQL, no knowledge of a project's layout."""
