"""HTTP errors with a clear ``detail``: 404 for an unknown id, 409 for a conflict, 422 for a field.

Every 422 uses FastAPI's shape (``detail: [{loc, msg, type}]``), whether pydantic or a route found
the problem, so a client reads one format.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)


def not_found(entity: str, key: object) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{entity} {key!r} not found")


def conflict(message: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, message)


def invalid(loc: tuple[str | int, ...], message: str) -> RequestValidationError:
    """A 422 for a value that passed its type but not a check against stored data."""
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])


async def _integrity_error(_request: Request, exc: Exception) -> JSONResponse:
    # Routes check uniqueness and references first, with precise messages; this answers the
    # race where two requests pass those checks at once, so the loser gets 409, not 500.
    log.info("integrity conflict: %s", exc)
    return JSONResponse(
        {"detail": "the request conflicts with existing data"}, status.HTTP_409_CONFLICT
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(IntegrityError, _integrity_error)
