"""Run simulations: split them into independent pieces, execute, merge deterministically, and
report progress as events. Imports flint, models and io; never service or cli.
"""
