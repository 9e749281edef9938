"""The FastAPI application: ``create_app(settings)`` builds one, ``uvicorn`` runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service import __version__
from service.api.errors import install_error_handlers
from service.api.limits import BodySizeLimit
from service.api.routes import api_router
from service.config import Settings, get_settings
from service.coordination import create_coordinator
from service.db.engine import create_engine, create_session_factory
from telemetry import setup_telemetry


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        telemetry = setup_telemetry(settings, role="api")
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessions = create_session_factory(engine)
        app.state.coordinator = create_coordinator(settings.redis_url)
        try:
            yield
        finally:
            await app.state.coordinator.aclose()
            await engine.dispose()
            telemetry.shutdown()

    app = FastAPI(
        title="BGW",
        version=__version__,
        summary="Board-game watcher: shop announces, preorders, releases and discounts.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(api_router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process is up and answering. It checks no dependency."""
        return {"status": "ok"}

    return app
