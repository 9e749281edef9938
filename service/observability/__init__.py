"""The service's side of telemetry: health checks of its dependencies, gauges derived from stored
data, and the statistics behind /api/metrics/stats."""
