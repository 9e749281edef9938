"""The telemetry entry point.

The meter and tracer providers, the Prometheus bridge, OTLP export and auto-instrumentation arrive
with the telemetry-core issue; the service already calls this entry point at start and stop, so
that work changes nothing outside this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["api", "worker", "all"]


@dataclass
class Telemetry:
    """A handle on what :func:`setup_telemetry` configured; ``shutdown`` is safe to call twice."""

    role: Role
    active: bool = True

    def shutdown(self) -> None:
        self.active = False


def setup_telemetry(settings: object, role: Role) -> Telemetry:
    return Telemetry(role=role)
