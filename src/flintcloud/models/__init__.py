"""Models built on the FLINT engine: the FLINT examples (Point, RothC) and GCBM.

Models import `flintcloud.flint` and nothing above it (no io, runner, service).
"""
