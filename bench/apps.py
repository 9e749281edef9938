"""The benchmark's variants: one FastAPI app per way of instrumenting it.

Every trivial variant serves the same route, ``GET /items/{item_id}``, and differs only in its
instrumentation; the ``bgw_app_*`` variants are the real BGW app on ``BGW_DATABASE_URL`` (a
seeded SQLite file by default, see ``bench.run``), serving ``GET /api/games``. uvicorn builds
one with ``bench.apps:create --factory`` and ``BENCH_VARIANT=<name>``; the in-process CPU loop
calls :func:`create` the same way. A variant's ``env`` is applied before its factory runs, so a
variant means the same thing whoever starts it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

VARIANT_ENV = "BENCH_VARIANT"
ITEM_PATH = "/items/1"
GAMES_PATH = "/api/games"

# service.app's UNMEASURED_ENDPOINTS and UNTRACED_URLS, copied: importing service.app would load
# the whole service (SQLAlchemy, models, routes) into the trivial variants but not the baseline.
UNMEASURED_ENDPOINTS = (
    "/api/metrics/prometheus",
    "/api/metrics/health",
    "/api/metrics/stats",
    "/api/metrics/targets",
    "/api/metrics/reset",
)
UNTRACED_URLS = "/healthz,/api/metrics/"


@dataclass(frozen=True)
class BenchSettings:
    """What ``setup_telemetry`` reads from settings (``TelemetrySettings``)."""

    tracing_enabled: bool
    env: str = "production"
    service_version: str = "bench"


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    factory: Callable[[], Any]
    path: str = ITEM_PATH
    # The variant whose throughput this one is divided by, from the same run.
    reference: str = "baseline"
    # The lowest acceptable ratio to the reference, when there is a goal.
    target: float | None = None
    env: dict[str, str] = field(default_factory=dict)
    # False: a lever measured by the in-process CPU loop only, not under wrk.
    throughput: bool = True


def items_app(**options: Any) -> FastAPI:
    """The uninstrumented app: one path parameter, a small JSON body."""
    app = FastAPI(**options)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, object]:
        return {"item_id": item_id, "name": "meeple", "price": 9.5, "in_stock": True}

    return app


def otel_stock() -> FastAPI:
    """opentelemetry-instrumentation-fastapi as documented: every request traced (no exporter),
    receive/send spans included, HTTP metrics to a MeterProvider read by Prometheus."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON

    app = items_app()
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=TracerProvider(sampler=ALWAYS_ON),
        meter_provider=MeterProvider(metric_readers=[PrometheusMetricReader()]),
    )
    return app


def prometheus_instrumentator() -> FastAPI:
    from prometheus_fastapi_instrumentator import Instrumentator

    app = items_app()
    Instrumentator().instrument(app).expose(app)
    return app


def starlette_exporter() -> FastAPI:
    from starlette_exporter import PrometheusMiddleware, handle_metrics

    app = items_app()
    app.add_middleware(PrometheusMiddleware)
    app.add_route("/metrics", handle_metrics)
    return app


def bgw_middleware_noop() -> FastAPI:
    """ApiMetricsMiddleware with the catalog unbound (no-op instruments): what
    ``OTEL_SDK_DISABLED=true`` leaves running in the real app."""
    from telemetry import FASTAPI_NATIVE_TELEMETRY_OFF
    from telemetry.middleware import ApiMetricsMiddleware

    app = items_app(telemetry=FASTAPI_NATIVE_TELEMETRY_OFF)
    app.add_middleware(ApiMetricsMiddleware, excluded_endpoints=UNMEASURED_ENDPOINTS)
    return app


def bgw_telemetry(tracing: bool) -> FastAPI:
    """BGW's telemetry wired as ``service.app.create_app`` wires it: the catalog's middleware,
    then (with tracing) the tuned FastAPI instrumentation."""
    from telemetry import FASTAPI_NATIVE_TELEMETRY_OFF, setup_telemetry
    from telemetry.middleware import ApiMetricsMiddleware

    telemetry = setup_telemetry(BenchSettings(tracing_enabled=tracing), role="api")
    app = items_app(telemetry=FASTAPI_NATIVE_TELEMETRY_OFF)
    app.state.telemetry = telemetry
    app.add_middleware(ApiMetricsMiddleware, excluded_endpoints=UNMEASURED_ENDPOINTS)
    telemetry.instrument_app(app, excluded_urls=UNTRACED_URLS)
    return app


def native_telemetry_off() -> FastAPI:
    """The baseline without FastAPI's own per-request check for global OTel providers."""
    return items_app(telemetry={"tracing": False, "metrics": False, "logs": False})


def lean_full() -> FastAPI:
    """BGW's full telemetry through the one-middleware prototype (bench/prototypes.py)."""
    from bench.prototypes import LeanTelemetryMiddleware
    from telemetry import setup_telemetry

    telemetry = setup_telemetry(BenchSettings(tracing_enabled=True), role="api")
    assert telemetry.tracer_provider is not None, "tracing is enabled"
    app = items_app()
    app.state.telemetry = telemetry
    app.add_middleware(
        LeanTelemetryMiddleware,
        tracer=telemetry.tracer_provider.get_tracer("bench.prototypes"),
        excluded_endpoints=UNMEASURED_ENDPOINTS,
        untraced_prefixes=tuple(UNTRACED_URLS.split(",")),
    )
    return app


def bgw_app(*skipped: str) -> FastAPI:
    """The real BGW app; its settings (database, tracing) come from the environment.

    ``skipped`` names ``Telemetry`` methods (``instrument_engine``, ``instrument_app``) replaced
    by no-ops in this process, to measure what one piece of auto-instrumentation costs.
    """
    from service.app import create_app
    from service.config import Settings
    from telemetry.setup import Telemetry

    for method in skipped:
        setattr(Telemetry, method, lambda *_args, **_kwargs: None)
    return create_app(Settings())


# The real app's settings, on top of BGW_DATABASE_URL (set by whoever prepared the database). On
# SQLite the API process also runs the agent scheduler by default; it is left out here, as on
# PostgreSQL, so that only the request path is compared.
_REAL_APP = {"BGW_LOG_LEVEL": "WARNING", "BGW_ENV": "production", "BGW_EMBEDDED_WORKER": "false"}
_FULL = {**_REAL_APP, "BGW_TRACING_ENABLED": "true"}


def real_app_variant(
    name: str,
    description: str,
    env: dict[str, str],
    factory: Callable[[], Any] = bgw_app,
    **options: Any,
) -> Variant:
    """A variant of the real app: ``GET /api/games``, compared with the app with telemetry off."""
    return Variant(
        name, description, factory, path=GAMES_PATH, reference="bgw_app_off", env=env, **options
    )


VARIANTS: tuple[Variant, ...] = (
    Variant("baseline", "plain FastAPI, nothing instrumented", items_app),
    Variant("otel_stock", "stock OTel FastAPI: always-on traces + metrics", otel_stock),
    Variant(
        "prom_instrumentator",
        "prometheus-fastapi-instrumentator (metrics)",
        prometheus_instrumentator,
    ),
    Variant("starlette_exporter", "starlette-exporter (metrics)", starlette_exporter),
    Variant(
        "bgw_metrics",
        "BGW metrics only (SDK + ApiMetricsMiddleware)",
        lambda: bgw_telemetry(tracing=False),
        target=0.80,
    ),
    Variant(
        "bgw_full",
        "BGW full: metrics + tuned tracing, parent-based 10 %",
        lambda: bgw_telemetry(tracing=True),
        target=0.55,
    ),
    Variant(
        "bgw_full_always_on",
        "BGW full, OTEL_TRACES_SAMPLER=always_on",
        lambda: bgw_telemetry(tracing=True),
        env={"OTEL_TRACES_SAMPLER": "always_on"},
    ),
    Variant(
        "bgw_middleware_noop",
        "ApiMetricsMiddleware, no SDK (no-op instruments)",
        bgw_middleware_noop,
    ),
    Variant(
        "proto_lean_full",
        "prototype: one lean middleware, spans 10 % + metrics",
        lean_full,
    ),
    Variant(
        "proto_lean_always_on",
        "prototype: one lean middleware, always_on",
        lean_full,
        env={"OTEL_TRACES_SAMPLER": "always_on"},
        throughput=False,
    ),
    Variant(
        "bgw_full_no_exemplars",
        "BGW full, OTEL_METRICS_EXEMPLAR_FILTER=always_off",
        lambda: bgw_telemetry(tracing=True),
        env={"OTEL_METRICS_EXEMPLAR_FILTER": "always_off"},
        throughput=False,
    ),
    Variant(
        "baseline_native_off",
        "baseline, FastAPI(telemetry=...all False)",
        native_telemetry_off,
        throughput=False,
    ),
    real_app_variant(
        "bgw_app_off",
        "real app GET /api/games, OTEL_SDK_DISABLED + no tracing",
        {**_REAL_APP, "OTEL_SDK_DISABLED": "true", "BGW_TRACING_ENABLED": "false"},
    ),
    real_app_variant(
        "bgw_app_full",
        "real app GET /api/games, full telemetry (10 %)",
        _FULL,
        target=0.85,
    ),
    real_app_variant(
        "bgw_app_metrics",
        "real app GET /api/games, metrics only (BGW_TRACING_ENABLED=false)",
        {**_REAL_APP, "BGW_TRACING_ENABLED": "false"},
    ),
    real_app_variant(
        "bgw_app_full_unsampled",
        "real app, full telemetry, nothing sampled (parentbased_always_off)",
        {**_FULL, "OTEL_TRACES_SAMPLER": "parentbased_always_off"},
    ),
    real_app_variant(
        "bgw_app_no_sql_spans",
        "real app, full telemetry but no SQLAlchemy spans",
        _FULL,
        factory=lambda: bgw_app("instrument_engine"),
        throughput=False,
    ),
    real_app_variant(
        "bgw_app_no_server_spans",
        "real app, full telemetry but no FastAPI spans",
        _FULL,
        factory=lambda: bgw_app("instrument_app"),
        throughput=False,
    ),
)

BY_NAME = {variant.name: variant for variant in VARIANTS}


def create(name: str | None = None) -> Any:
    """Build a variant's app (the one named by ``BENCH_VARIANT`` by default)."""
    variant = BY_NAME[name or os.environ[VARIANT_ENV]]
    os.environ.update(variant.env)
    return variant.factory()
