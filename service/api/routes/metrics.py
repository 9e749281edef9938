"""The metrics API: the Prometheus exposition, health, human-readable stats, scrape targets, and a
development-only reset. When a metrics token is configured, every route but health requires
``Authorization: Bearer <token>`` (Prometheus: ``authorization.credentials_file``)."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.api.deps import SessionDep, SettingsDep
from service.observability.stats import collect_stats

PROMETHEUS_PATH = "/api/metrics/prometheus"

_bearer = HTTPBearer(auto_error=False)


def require_metrics_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected: str | None = request.app.state.metrics_token
    if expected is None:
        return
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid metrics token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )


router = APIRouter(prefix="/api/metrics", tags=["metrics"])
MetricsToken = Depends(require_metrics_token)


@router.get(
    "/prometheus",
    dependencies=[MetricsToken],
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus exposition"}},
)
async def prometheus(request: Request) -> Response:
    """Every catalog metric, in the text format 0.0.4, or OpenMetrics when Accept asks for it."""
    body, content_type = request.app.state.telemetry.bridge.render(request.headers.get("accept"))
    return Response(body, media_type=content_type)


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    """Overall status (ok, degraded, down) and each component's; 503 when a critical one is down.
    Served from the background checks' last round, so polling it costs the dependencies nothing."""
    report = await request.app.state.health.report()
    body = {
        "status": report.status,
        "checked_at": report.checked_at,
        "components": {
            name: {
                "status": c.status,
                "critical": c.critical,
                "latency_ms": c.latency_ms,
                "error": c.error,
            }
            for name, c in report.components.items()
        },
    }
    return JSONResponse(body, status_code=report.http_status)


@router.get("/stats", dependencies=[MetricsToken])
async def stats(request: Request, session: SessionDep) -> dict[str, Any]:
    """Agents, runs, pages, events, notifications, rules and API figures for a person to read."""
    state = request.app.state
    return await collect_stats(session, state.quotas, state.telemetry.bridge)


@router.get("/targets", dependencies=[MetricsToken])
async def targets(request: Request, settings: SettingsDep) -> list[dict[str, Any]]:
    """This deployment's scrape targets, in Prometheus HTTP service-discovery format."""
    groups = [
        {
            "targets": [request.url.netloc],
            "labels": {
                "job": "bgw-api",
                "__metrics_path__": PROMETHEUS_PATH,
                "__scheme__": request.url.scheme,
                "environment": settings.env,
            },
        }
    ]
    for entry in settings.metrics_targets:
        job, _, address = entry.rpartition("=")
        groups.append({"targets": [address], "labels": {"job": job or "bgw"}})
    return groups


@router.get("/reset", dependencies=[MetricsToken], operation_id="reset_metrics_get")
@router.post("/reset", dependencies=[MetricsToken], operation_id="reset_metrics")
async def reset(request: Request, settings: SettingsDep) -> dict[str, str]:
    """Start every counter and histogram again from zero. Development only; 404 in production."""
    if settings.env != "development":
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    request.app.state.telemetry.reset_metrics()
    return {"status": "reset"}
