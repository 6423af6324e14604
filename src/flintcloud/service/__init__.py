"""The REST service: the only layer that knows HTTP. Imports runner, io, models and flint."""
