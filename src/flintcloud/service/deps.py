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


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_caller(request: Request,
               credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
               ) -> Caller:
    return get_services(request).auth.caller(credentials.credentials if credentials else None)


ServicesDep = Annotated[Services, Depends(get_services)]
CallerDep = Annotated[Caller, Depends(get_caller)]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", description="Repeat a POST safely: the same key and payload return "
                                         "the same job; the same key with another payload is a 422.")]
