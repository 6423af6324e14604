"""The service objects one app (or CLI command) works with, built once from the settings."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from flintcloud.service.db import Database, open_database
from flintcloud.service.errors import UnauthorizedError
from flintcloud.service.jobs import Job, JobRepository, JobService
from flintcloud.service.processes import ProcessDefinition, ProcessRegistry, build_registry
from flintcloud.service.scenarios import ScenarioService
from flintcloud.service.simulations import SimulationService
from flintcloud.service.storage import Storage
from flintcloud.service.uploads import ZipLimits
from flintcloud.settings import Settings


@dataclass(frozen=True)
class Caller:
    """Who is calling. With auth off everybody is the anonymous owner "" and sees everything."""

    owner: str
    scoped: bool

    @property
    def scope(self) -> str | None:
        """The owner to filter by, or None for no filtering."""
        return self.owner if self.scoped else None


class TokenAuth:
    """Optional bearer tokens: token -> owner. Off when no token is configured."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = [(token.encode(), owner) for token, owner in tokens.items()]

    @property
    def enabled(self) -> bool:
        return bool(self._tokens)

    def caller(self, token: str | None) -> Caller:
        if not self.enabled:
            return Caller("", scoped=False)
        if not token:
            raise UnauthorizedError("a bearer token is required",
                                    hint="send `Authorization: Bearer <token>`")
        owner = None
        for known, name in self._tokens:  # compare with every token: no timing hint
            if hmac.compare_digest(known, token.encode()):
                owner = name
        if owner is None:
            raise UnauthorizedError("unknown bearer token")
        return Caller(owner, scoped=True)


@dataclass
class Services:
    settings: Settings
    database: Database
    storage: Storage
    registry: ProcessRegistry
    jobs: JobService
    simulations: SimulationService
    auth: TokenAuth
    scenarios: ScenarioService

    @classmethod
    def build(cls, settings: Settings, *, database: Database | None = None) -> Services:
        database = database or open_database(settings)
        storage = Storage(settings.resolved_storage_dir).ensure()
        repository = JobRepository(
            database, key_lifetime=timedelta(hours=settings.idempotency_key_hours))
        jobs = JobService(repository, storage, max_attempts=settings.max_attempts)
        simulations = SimulationService(
            database, storage, jobs, max_upload_bytes=settings.max_upload_bytes,
            zip_limits=ZipLimits(settings.max_zip_members, settings.max_zip_uncompressed_bytes,
                                 settings.max_zip_ratio))
        return cls(settings, database, storage, build_registry(settings.extra_processes), jobs,
                   simulations, TokenAuth(settings.tokens()), ScenarioService(simulations))

    def submit(self, process_id: str, raw_inputs: dict, *, caller: Caller,
               idempotency_key: str | None = None) -> tuple[ProcessDefinition, Job, bool]:
        """Validate a process's inputs and queue a job; a GCBM run goes through its simulation,
        which checks and snapshots the project. Returns (process, job, created)."""
        definition = self.registry.get(process_id)
        inputs = definition.parse_inputs(raw_inputs)
        if definition.id == "gcbm":
            simulation = self.simulations.get(inputs["simulation"], owner=caller.scope)
            job, created = self.simulations.run(simulation, owner=caller.owner,
                                                idempotency_key=idempotency_key)
        else:
            check = definition.check
            job, created = self.jobs.submit(
                definition.id, inputs, owner=caller.owner, idempotency_key=idempotency_key,
                check=None if check is None else lambda: check(inputs))
        return definition, job, created
