"""The service: the only layer that knows HTTP. A FastAPI app (`app.create_app`), a SQL job store,
file storage and worker processes. Imports runner, io, models and flint; never cli.
"""
