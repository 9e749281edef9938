"""The Prometheus exposition written straight from the SDK's metrics data.

The OpenTelemetry Prometheus exporter translates every scrape into ``prometheus_client``
families and encodes those; for a realistic series count (thousands of samples) that costs well
over 100 ms, most of it per-sample label formatting. This renderer writes the same text (format
0.0.4, or OpenMetrics 1.0) directly, and formats each label set once: label strings are cached
per attribute set, which the catalog's bounded labels keep small.

Names follow the exporter's rules (the unit's suffix when missing, ``_total`` on counters),
values are formatted as ``prometheus_client`` formats them, and ``target_info`` carries the
resource. ``tests/telemetry/test_render.py`` checks the output against the exporter's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.exporter.prometheus._mapping import (
    map_unit,
    sanitize_attribute,
    sanitize_full_name,
)
from opentelemetry.sdk.metrics._internal.instrument import (
    Counter,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics._internal.instrument import (
    Histogram as HistogramInstrument,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    MetricExportResult,
    MetricReader,
    MetricsData,
    Sum,
)
from prometheus_client.utils import floatToGoString

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
LABEL_CACHE_LIMIT = 100_000


class SnapshotReader(MetricReader):
    """A pull reader that keeps the last collection for the renderer (cumulative throughout,
    as Prometheus expects)."""

    def __init__(self) -> None:
        cumulative = AggregationTemporality.CUMULATIVE
        super().__init__(
            preferred_temporality={
                Counter: cumulative,
                UpDownCounter: cumulative,
                HistogramInstrument: cumulative,
                ObservableCounter: cumulative,
                ObservableUpDownCounter: cumulative,
                ObservableGauge: cumulative,
            }
        )
        self._data: MetricsData | None = None

    def _receive_metrics(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult | None:
        self._data = metrics_data
        return None

    def snapshot(self) -> MetricsData | None:
        self.collect()
        return self._data

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._data = None


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Renderer:
    def __init__(self) -> None:
        self._labels: dict[tuple[tuple[str, Any], ...], str] = {}

    def render(self, data: MetricsData | None, *, openmetrics: bool = False) -> bytes:
        lines: list[str] = []
        if data is not None:
            for resource_metrics in data.resource_metrics:
                self._target_info(lines, resource_metrics.resource.attributes, openmetrics)
                break  # one process, one resource
            for resource_metrics in data.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    for metric in scope_metrics.metrics:
                        self._metric(lines, metric, openmetrics)
        if openmetrics:
            lines.append("# EOF")
        return ("\n".join(lines) + "\n").encode()

    # -- families ------------------------------------------------------------------------------

    def _target_info(
        self, lines: list[str], attributes: Mapping[str, Any], openmetrics: bool
    ) -> None:
        labels = self._label_text(tuple(attributes.items()))
        if openmetrics:
            lines += ["# HELP target Target metadata", "# TYPE target info"]
        else:
            lines += ["# HELP target_info Target metadata", "# TYPE target_info gauge"]
        lines.append(f"target_info{labels} 1.0")

    def _metric(self, lines: list[str], metric: Any, openmetrics: bool) -> None:
        data = metric.data
        unit = map_unit(metric.unit or "")
        name = sanitize_full_name(metric.name)
        if unit and not name.endswith(f"_{unit}"):
            name = f"{name}_{unit}"
        help_text = _escape_help(metric.description or "")
        if isinstance(data, Sum) and data.is_monotonic:
            family = name.removesuffix("_total")
            shown = family if openmetrics else f"{family}_total"
            lines += [f"# HELP {shown} {help_text}", f"# TYPE {shown} counter"]
            self._unit(lines, shown, unit, openmetrics)
            sample = f"{family}_total"
            for point in data.data_points:
                lines.append(
                    f"{sample}{self._labels_of(point.attributes)} {floatToGoString(point.value)}"
                )
        elif isinstance(data, Sum | Gauge):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            self._unit(lines, name, unit, openmetrics)
            for point in data.data_points:
                lines.append(
                    f"{name}{self._labels_of(point.attributes)} {floatToGoString(point.value)}"
                )
        elif isinstance(data, Histogram):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
            self._unit(lines, name, unit, openmetrics)
            for point in data.data_points:
                self._histogram_point(lines, name, point)

    @staticmethod
    def _unit(lines: list[str], name: str, unit: str, openmetrics: bool) -> None:
        if openmetrics and unit:
            lines.append(f"# UNIT {name} {unit}")

    def _histogram_point(self, lines: list[str], name: str, point: Any) -> None:
        items = tuple(point.attributes.items())
        cumulative = 0
        for bound, count in zip(
            (*point.explicit_bounds, float("inf")), point.bucket_counts, strict=False
        ):
            cumulative += count
            labels = self._label_text((*items, ("le", floatToGoString(bound))))
            lines.append(f"{name}_bucket{labels} {floatToGoString(cumulative)}")
        labels = self._label_text(items)
        lines.append(f"{name}_count{labels} {floatToGoString(point.count)}")
        lines.append(f"{name}_sum{labels} {floatToGoString(point.sum)}")

    # -- labels --------------------------------------------------------------------------------

    def _labels_of(self, attributes: Mapping[str, Any] | None) -> str:
        return self._label_text(tuple(attributes.items()) if attributes else ())

    def _label_text(self, items: tuple[tuple[str, Any], ...]) -> str:
        cached = self._labels.get(items)
        if cached is None:
            if len(self._labels) >= LABEL_CACHE_LIMIT:
                self._labels.clear()
            cached = self._labels[items] = _format_labels(items)
        return cached


def _format_labels(items: Iterable[tuple[str, Any]]) -> str:
    pairs = sorted((sanitize_attribute(str(key)), _text(value)) for key, value in items)
    if not pairs:
        return ""
    return "{" + ",".join(f'{key}="{_escape_value(value)}"' for key, value in pairs) + "}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return (
            "["
            + ",".join(f'"{item}"' if isinstance(item, str) else str(item) for item in value)
            + "]"
        )
    return str(value)
