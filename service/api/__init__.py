"""The HTTP API: routers under /api, dependencies, error handling and request limits."""
