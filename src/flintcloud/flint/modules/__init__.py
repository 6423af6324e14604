"""Modules of FLINT's `internal.flint` library: transaction managers, sequencers, outputers."""
