from __future__ import annotations

import pytest

from telemetry.resource import INSTANCE_ID, build_resource


@pytest.mark.parametrize(
    ("role", "name"), [("api", "bgw-api"), ("worker", "bgw-worker"), ("all", "bgw")]
)
def test_resource_names_the_role(role: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    attributes = build_resource(role, "1.2.3", "production").attributes  # type: ignore[arg-type]
    assert attributes["service.name"] == name
    assert attributes["service.namespace"] == "bgw"
    assert attributes["service.version"] == "1.2.3"
    assert attributes["deployment.environment"] == "production"
    assert attributes["service.instance.id"] == INSTANCE_ID


def test_standard_variables_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "bgw-edge")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging,team=games")
    attributes = build_resource("api", "1.0", "production").attributes
    assert attributes["service.name"] == "bgw-edge"
    assert attributes["deployment.environment"] == "staging"
    assert attributes["team"] == "games"
