from tests.agents_fixtures import runner, shop  # noqa: F401 - fixtures for this package
