"""Reproducible runs, independent of the model: read and compare run manifests (inputs,
settings, versions, outputs), compare tables, re-run a run and say whether it reproduced, export
it as a DVC pipeline, report it against a baseline.

What is specific to a model (how to re-run it, its settings, its indicators) comes from an
adapter per manifest `kind` (`repro.models`), e.g. `gcbm.reproduce`. This layer sits above the
models and below the service and the CLI: it never imports `service` or `cli`.
"""
