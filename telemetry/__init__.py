"""BGW telemetry: OpenTelemetry set-up and the one catalog of BGW instruments.

Usage::

    from telemetry import setup_telemetry

    telemetry = setup_telemetry(settings, role="api")
    telemetry.instrument_app(app, excluded_urls="/healthz,/api/metrics/")
    ...
    telemetry.shutdown()  # flushes what is buffered, undoes instrumentation

Business code records through ``telemetry.instruments`` (metrics) and ``telemetry.tracing``
(spans). This package never imports ``service``: it takes what it needs as arguments.
"""

from telemetry.resource import Role
from telemetry.setup import (
    FASTAPI_NATIVE_TELEMETRY_OFF,
    Telemetry,
    TelemetrySettings,
    setup_telemetry,
)

__all__ = [
    "FASTAPI_NATIVE_TELEMETRY_OFF",
    "Role",
    "Telemetry",
    "TelemetrySettings",
    "setup_telemetry",
]
