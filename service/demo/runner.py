"""Serving the demo: the shop site and BGW side by side in one event loop."""

from __future__ import annotations

import asyncio

import uvicorn

from service.app import create_app
from service.config import Settings
from service.db.engine import create_engine, create_session_factory
from service.demo.seed import seed_demo
from service.demo.site import create_site


async def run_demo(
    settings: Settings, host: str, port: int, site_port: int, phase_seconds: float
) -> None:
    site_url = f"http://127.0.0.1:{site_port}"
    engine = create_engine(settings)
    try:
        await seed_demo(create_session_factory(engine), site_url)
    finally:
        await engine.dispose()
    site = uvicorn.Server(
        uvicorn.Config(
            create_site(phase_seconds), host="127.0.0.1", port=site_port, log_level="warning"
        )
    )
    bgw = uvicorn.Server(
        uvicorn.Config(create_app(settings), host=host, port=port, log_config=None)
    )
    await asyncio.gather(site.serve(), bgw.serve())
