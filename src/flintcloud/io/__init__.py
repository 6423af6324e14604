"""Where bytes meet arrays: parameter tables, rasters, SQLite databases and output writers.

Imports `flintcloud.flint` and `flintcloud.models`; never `runner`, `service` or `cli`.
"""
