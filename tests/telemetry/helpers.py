"""Reading an exposition back: families by name, with their types and label sets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

METRICS_PATH = "/api/metrics/prometheus"


@dataclass
class Family:
    name: str
    type: str
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def label_sets(self) -> set[frozenset[str]]:
        return {frozenset(k for k in labels if k != "le") for _, labels, _ in self.samples}

    def value(self, sample_name: str | None = None, **labels: str) -> float | None:
        for name, sample_labels, value in self.samples:
            if (sample_name or self.exposed) == name and sample_labels == labels:
                return value
        return None

    @property
    def exposed(self) -> str:
        return f"{self.name}_total" if self.type == "counter" else self.name

    def series(self) -> set[tuple[tuple[str, str], ...]]:
        return {tuple(sorted(labels.items())) for _, labels, _ in self.samples}


def parse(text: str) -> dict[str, Family]:
    families: dict[str, Family] = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = Family(
            family.name,
            family.type,
            [(s.name, dict(s.labels), s.value) for s in family.samples],
        )
    return families


def by_exposed_name(families: Iterable[Family]) -> dict[str, Family]:
    return {family.exposed: family for family in families}


async def scrape(client: httpx.AsyncClient, **headers: str) -> dict[str, Family]:
    response = await client.get(METRICS_PATH, headers=headers)
    assert response.status_code == 200, response.text
    return by_exposed_name(parse(response.text).values())
