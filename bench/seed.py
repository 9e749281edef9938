"""Prepare the real app's SQLite database: migrate a fresh file and add games through the API.

Run as ``python -m bench.seed <database-url> [count]`` (the runner does it in a child process,
with telemetry off, so the runner itself configures nothing).
"""

from __future__ import annotations

import os
import sys

GAMES = 20


def seed(database_url: str, count: int = GAMES) -> None:
    os.environ.update(
        {
            "BGW_DATABASE_URL": database_url,
            "OTEL_SDK_DISABLED": "true",
            "BGW_TRACING_ENABLED": "false",
            "BGW_LOG_LEVEL": "WARNING",
            "BGW_EMBEDDED_WORKER": "false",
        }
    )
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.config import Settings
    from service.db.migrate import upgrade

    upgrade(database_url)
    with TestClient(create_app(Settings())) as client:
        for number in range(1, count + 1):
            response = client.post("/api/games", json={"title": f"Benchmark game {number:02d}"})
            response.raise_for_status()
        listed = client.get("/api/games").json()
    if listed["total"] != count:
        raise RuntimeError(f"expected {count} games, the API lists {listed['total']}")


if __name__ == "__main__":
    seed(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else GAMES)
