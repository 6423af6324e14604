"""What a GCBM run writes: GCBM's results database and its tables, WriteVariableGeotiff's block
GeoTIFFs and whole-area mosaics, the compiled indicators (GCBM.CompileResults), summaries, and
the layout of a run's folder (file names, item names and units), declared once."""
