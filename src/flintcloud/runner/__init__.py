"""Run FLINT configurations: land-unit batches split into chunks, run here or in processes, merged
deterministically; the FLINT examples. Imports flint, models and io; never service or cli.
"""
