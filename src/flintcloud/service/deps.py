"""FastAPI dependencies: the app's services and the caller (from the optional bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from flintcloud.service.services import Caller, Services

bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="bearerAuth",
    description="Optional: when the server has tokens configured, every job and simulation "
                "endpoint needs `Authorization: Bearer <token>`, and each caller sees only "
                "what it created.")


# Both are `async def` although they do no I/O: FastAPI runs a plain `def` dependency in the
# thread pool, and that hop costs more than the dependency itself on every request.
async def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_caller(request: Request,
               credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
               ) -> Caller:
    services: Services = request.app.state.services
    return services.auth.caller(credentials.credentials if credentials else None)


ServicesDep = Annotated[Services, Depends(get_services)]
CallerDep = Annotated[Caller, Depends(get_caller)]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[ -~]+$",
    description="Repeat a POST safely: the same key and payload return the same job; the same "
                "key with another payload is a 422. 1 to 255 printable ASCII characters.")]
