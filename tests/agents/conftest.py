from tests.agents_fixtures import runner, shop  # noqa: F401 - fixtures for this package
from tests.processes import shared_db, workers  # noqa: F401 - fixtures for this package
