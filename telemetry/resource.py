"""The OpenTelemetry resource: who is reporting (service, role, version, environment, process)."""

from __future__ import annotations

import uuid
from typing import Literal

from opentelemetry.sdk.resources import (
    SERVICE_INSTANCE_ID,
    SERVICE_NAME,
    SERVICE_NAMESPACE,
    SERVICE_VERSION,
    OTELResourceDetector,
    Resource,
)

Role = Literal["api", "worker", "all"]

SERVICE_NAMES: dict[str, str] = {"api": "bgw-api", "worker": "bgw-worker", "all": "bgw"}
NAMESPACE = "bgw"

# Stable for the life of this process, distinct between processes (and between uvicorn workers).
INSTANCE_ID = str(uuid.uuid4())


def build_resource(role: Role, version: str, environment: str) -> Resource:
    """BGW's attributes, with OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME applied on top."""
    attributes = {
        SERVICE_NAME: SERVICE_NAMES[role],
        SERVICE_NAMESPACE: NAMESPACE,
        SERVICE_VERSION: version,
        SERVICE_INSTANCE_ID: INSTANCE_ID,
        "deployment.environment": environment,
        "deployment.environment.name": environment,
        "bgw.role": role,
    }
    # Resource.create lets BGW's attributes win over the environment; the specification wants
    # the user's OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME to win, so merge those last.
    return Resource.create(attributes).merge(OTELResourceDetector().detect())
