"""Structured logs carry the trace; profiles are saved per request, bounded, only when asked."""

from __future__ import annotations

import json
import logging
import pstats
from pathlib import Path

import httpx
import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from service.app import create_app
from telemetry.logging import configure_logging
from telemetry.profiling import ProfilingMiddleware
from telemetry.tracing import bind_tracer_provider, traced
from tests.conftest import Backend


@pytest.fixture
def tracer_bound() -> TracerProvider:
    provider = TracerProvider()
    bind_tracer_provider(provider)
    yield provider
    bind_tracer_provider(None)


def test_json_lines_inside_a_span_carry_its_ids(
    capsys: pytest.CaptureFixture[str], tracer_bound: TracerProvider
) -> None:
    configure_logging(json=True)
    log = structlog.get_logger("bgw.agents")
    with traced("agent.run") as span:
        log.info("Agent completed", agent_id="hobbygames", duration=1.5, events_count=3)
    logging.getLogger("uvicorn.error").warning("from the standard library")
    outside = structlog.get_logger("bgw").info("outside any span")
    del outside

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    completed, stdlib, plain = lines
    context = span.get_span_context()
    assert completed["event"] == "Agent completed"
    assert completed["agent_id"] == "hobbygames"
    assert completed["events_count"] == 3
    assert completed["trace_id"] == format(context.trace_id, "032x")
    assert completed["span_id"] == format(context.span_id, "016x")
    assert completed["level"] == "info"
    assert stdlib["event"] == "from the standard library"
    assert stdlib["logger"] == "uvicorn.error"
    assert "trace_id" not in plain
    configure_logging(json=False)


def test_console_format_in_development(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=False)
    structlog.get_logger("bgw").info("readable", agent_id="x")
    err = capsys.readouterr().err
    assert "readable" in err
    assert "agent_id" in err
    assert not err.lstrip().startswith("{")


async def test_profiles_are_saved_by_route_and_rotated(
    backend: Backend, clean_db: None, tmp_path: Path
) -> None:
    settings = backend.settings(
        profiling_enabled=True, profiling_dir=tmp_path / "profiles", profiling_max_files=3
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
            for _ in range(5):
                assert (await client.get("/api/games")).status_code == 200
    profiles = sorted((tmp_path / "profiles").glob("*.prof"))
    assert len(profiles) == 3
    assert all("-GET-api_games-" in p.name for p in profiles)
    stats = pstats.Stats(str(profiles[-1]))
    assert stats.total_calls > 0  # type: ignore[attr-defined]


async def test_profiling_is_absent_when_off(backend: Backend, clean_db: None) -> None:
    app = create_app(backend.settings())
    assert not any(m.cls is ProfilingMiddleware for m in app.user_middleware)
    app.state.telemetry.shutdown()
