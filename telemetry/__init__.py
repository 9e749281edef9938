"""BGW telemetry: OpenTelemetry set-up and the one catalog of BGW instruments.

Usage::

    from telemetry import setup_telemetry

    handle = setup_telemetry(settings, role="api")
    ...
    handle.shutdown()  # flushes what is buffered

This package never imports ``service``: it takes what it needs as arguments.
"""

from telemetry.setup import Role, Telemetry, setup_telemetry

__all__ = ["Role", "Telemetry", "setup_telemetry"]
